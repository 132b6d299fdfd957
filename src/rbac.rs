//! Least privilege, derived from the course: the read-only rules that judging exactly the kinds
//! the course's exercises read needs (get, list and watch of each; `get pods/log`), as a
//! namespaced Role for a learner or an instructor in one namespace, or as the grader's
//! ClusterRole for a whole class. Secrets are never granted cluster-wide: the grader gets a
//! namespaced Role for them, bound in each learner namespace. `deploy/` is written from here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::course::Course;
use crate::kinds::{ApiKind, Known};

/// Where the rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// A Role: one namespace (a learner's own, or one the instructor reads).
    Namespace,
    /// The grader's ClusterRole: every namespace at once, Secrets excepted.
    Cluster,
}

/// The API kinds the course reads, resolved (custom kinds by their apiVersion and a plural
/// that discovery confirms at run time; `kubelab rbac` names them as the course does).
pub fn kinds(course: &Course) -> Vec<ApiKind> {
    let mut out: Vec<ApiKind> = Vec::new();
    for ex in course.exercises() {
        for k in &ex.plan.kinds {
            let api = match k.resolve_offline() {
                Ok(Some(api)) => api,
                _ => match ex.targets().iter().find(|t| t.kind == *k) {
                    // A custom kind: its lower-case plural, as CRDs conventionally name it.
                    Some(t) => {
                        let (group, version) = t.kind.group_version().unwrap_or_default();
                        ApiKind {
                            group,
                            version,
                            kind: k.kind.clone(),
                            plural: format!("{}s", k.kind.to_lowercase()),
                            namespaced: true,
                        }
                    }
                    None => continue,
                },
            };
            if !out.iter().any(|o| o.same_kind(&api)) {
                out.push(api);
            }
        }
    }
    out
}

/// Resources by API group, sorted, for rules.
fn by_group(kinds: &[ApiKind], secrets: bool) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for k in kinds {
        if (k.known() == Some(Known::Secret)) != secrets {
            continue;
        }
        let (group, plural) = k.rbac();
        let list = groups.entry(group.to_owned()).or_default();
        if !list.iter().any(|p| p == plural) {
            list.push(plural.to_owned());
        }
    }
    for list in groups.values_mut() {
        list.sort();
    }
    groups
}

fn rules(
    out: &mut String,
    groups: &BTreeMap<String, Vec<String>>,
    extra_core: &[&str],
    logs: bool,
) {
    let _ = writeln!(out, "rules:");
    for (group, resources) in groups {
        let mut resources = resources.clone();
        if group.is_empty() {
            resources.extend(extra_core.iter().map(|r| (*r).to_owned()));
            resources.sort();
        }
        let quoted: Vec<String> = resources.iter().map(|r| format!("\"{r}\"")).collect();
        let _ = writeln!(out, "  - apiGroups: [\"{group}\"]");
        let _ = writeln!(out, "    resources: [{}]", quoted.join(", "));
        let _ = writeln!(out, "    verbs: [\"get\", \"list\", \"watch\"]");
    }
    if logs {
        let _ = writeln!(out, "  - apiGroups: [\"\"]");
        let _ = writeln!(out, "    resources: [\"pods/log\"]");
        let _ = writeln!(out, "    verbs: [\"get\"]");
    }
}

fn header(out: &mut String, kind: &str, name: &str) {
    let _ = writeln!(out, "apiVersion: rbac.authorization.k8s.io/v1");
    let _ = writeln!(out, "kind: {kind}");
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: {name}");
    let _ = writeln!(out, "  labels:");
    let _ = writeln!(out, "    app.kubernetes.io/name: kubelab");
}

/// The namespaced Role a checker needs in one namespace (Secrets included, when the course
/// reads them: a Role grants them in its own namespace only).
pub fn reader(course: &Course) -> String {
    let kinds = kinds(course);
    let mut out = String::from(
        "# The read-only permissions kubelab's checker needs in a learner's namespace, derived from the\n\
         # course (`kubelab rbac --scope namespace`; a test keeps this file equal to it):\n\
         #   kubectl apply -n NAMESPACE -f deploy/kubelab-reader.yaml\n\
         #   kubectl create rolebinding kubelab-reader -n NAMESPACE --role=kubelab-reader --user=NAME\n\
         # (or --serviceaccount=NS:NAME / --group=NAME). Nothing here can create, change or delete.\n",
    );
    let mut groups = by_group(&kinds, false);
    for (g, rs) in by_group(&kinds, true) {
        groups.entry(g).or_default().extend(rs);
    }
    header(&mut out, "Role", "kubelab-reader");
    rules(&mut out, &groups, &[], true);
    out
}

/// The grader's ClusterRole (every kind but Secrets, and namespaces), its example binding,
/// and, when the course reads Secrets, the Role to bind in each learner namespace for them.
pub fn grader(course: &Course) -> String {
    let kinds = kinds(course);
    let mut out = String::from(
        "# The read-only permissions `kubelab grade` needs to grade a whole class on a shared cluster,\n\
         # derived from the course (`kubelab rbac --scope cluster`; a test keeps this file equal to it):\n\
         # one LIST per kind across all namespaces, Namespaces, and each pod's log.\n\
         #   kubectl apply -f deploy/kubelab-grader.yaml\n\
         #   kubectl create clusterrolebinding kubelab-grader --clusterrole=kubelab-grader --user=NAME\n\
         # (or --serviceaccount=NS:NAME / --group=NAME; the binding below is an example for the\n\
         # service account of deploy/grade-job.yaml). Nothing here can create, change or delete.\n\
         # Without it (only the namespaced Role of kubelab-reader.yaml in each learner namespace),\n\
         # grade falls back to reading namespace by namespace and says so.\n",
    );
    header(&mut out, "ClusterRole", "kubelab-grader");
    rules(&mut out, &by_group(&kinds, false), &["namespaces"], true);
    out.push_str(
        "---\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: ClusterRoleBinding\n\
         metadata:\n  name: kubelab-grader\n  labels:\n    app.kubernetes.io/name: kubelab\n\
         roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: kubelab-grader\n\
         subjects:\n  - kind: ServiceAccount\n    name: kubelab-grader\n    namespace: kubelab-grading\n",
    );
    out
}

/// When the course reads Secrets: the Role the grader needs for them in each learner
/// namespace (namespaced, never cluster-wide).
pub fn grader_secrets(course: &Course) -> Option<String> {
    let secrets = by_group(&kinds(course), true);
    if secrets.is_empty() {
        return None;
    }
    let mut out = [
        "# The course reads Secrets (their keys: kubelab never keeps a value). A cluster-wide grant",
        "# would hand the grader every token in the cluster, so this Role is namespaced, derived from",
        "# the course (`kubelab rbac --scope cluster`): apply and bind it in each learner namespace:",
        "#   kubectl apply -n NAMESPACE -f deploy/kubelab-grader-secrets.yaml",
        "#   kubectl create rolebinding kubelab-grader-secrets -n NAMESPACE",
        "#     --role=kubelab-grader-secrets --serviceaccount=kubelab-grading:kubelab-grader",
        "",
    ]
    .join("\n");
    header(&mut out, "Role", "kubelab-grader-secrets");
    rules(&mut out, &secrets, &[], false);
    Some(out)
}

/// The files of `deploy/` this module writes, by name.
pub fn files(course: &Course) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("kubelab-reader.yaml", reader(course)),
        ("kubelab-grader.yaml", grader(course)),
    ];
    if let Some(secrets) = grader_secrets(course) {
        out.push(("kubelab-grader-secrets.yaml", secrets));
    }
    out
}
