//! Least privilege, derived from the course: the read-only rules that judging exactly the kinds
//! the course's exercises read needs (get, list and watch of each; `get pods/log`), as a
//! namespaced Role for a learner or an instructor in one namespace, or as the grader's
//! ClusterRole for a whole class. Secrets are never granted cluster-wide: the grader gets a
//! namespaced Role for them, bound in each learner namespace. `deploy/` is written from here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use k8s_openapi::api::rbac::v1::PolicyRule;

use crate::course::Course;
use crate::kinds::{ApiKind, KindRef, Known};

/// Where the rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// A Role: one namespace (a learner's own, or one the instructor reads).
    Namespace,
    /// The grader's ClusterRole: every namespace at once, Secrets excepted.
    Cluster,
    /// What `kubelab class` needs to set a class up and take it down (and the learners' Role).
    Class,
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

const READ_VERBS: [&str; 3] = ["get", "list", "watch"];
const CLEAN_VERBS: [&str; 5] = ["get", "list", "watch", "delete", "deletecollection"];
const WRITE_VERBS: [&str; 8] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

fn rule(group: &str, resources: Vec<String>, verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(resources),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        ..PolicyRule::default()
    }
}

/// The kinds learners create in the course: every kind its exercises' reference and given
/// files hold, and Pods (exercises have learners delete a worker or `kubectl run` one).
pub fn authored_kinds(course: &Course) -> Vec<ApiKind> {
    let mut out: Vec<ApiKind> = Vec::new();
    let mut add = |k: ApiKind| {
        if !out.iter().any(|o| o.same_kind(&k)) {
            out.push(k);
        }
    };
    if let Ok(Some(pod)) = KindRef::new("Pod").resolve_offline() {
        add(pod);
    }
    for ex in course.exercises() {
        for object in crate::manifest::exercise_objects(&course.root, ex) {
            let kind = KindRef {
                kind: object.kind.clone(),
                api_version: Some(object.api_version.clone()),
            };
            if let Ok(Some(api)) = kind.resolve_offline()
                && api.namespaced
            {
                add(api);
            }
        }
    }
    out
}

/// What a learner may do in their own namespace on a class cluster: create, change and delete
/// the kinds the course has them write; read every other kind the course judges (Events,
/// ReplicaSets, EndpointSlices); find and delete what `kubelab clean` looks for among the
/// other common kinds; read pod logs, exec into pods and scale what they wrote.
/// Nothing here names another namespace or anything cluster-wide: it is bound by a RoleBinding.
pub fn learner_rules(course: &Course) -> Vec<PolicyRule> {
    let authored = authored_kinds(course);
    let read_only: Vec<ApiKind> = kinds(course)
        .into_iter()
        .filter(|k| k.namespaced && !authored.iter().any(|a| a.same_kind(k)))
        .collect();
    // `kubelab clean` looks for what it labelled among the common kinds, and deletes it.
    let cleanable: Vec<ApiKind> = crate::clean::STANDARD_KINDS
        .iter()
        .filter_map(|k| KindRef::new(k).resolve_offline().ok().flatten())
        .filter(|k| {
            !authored.iter().any(|a| a.same_kind(k)) && !read_only.iter().any(|r| r.same_kind(k))
        })
        .collect();
    let mut rules = Vec::new();
    for (group, resources) in by_group(&authored, false)
        .into_iter()
        .chain(by_group(&authored, true))
    {
        rules.push(rule(&group, resources, &WRITE_VERBS));
    }
    for (group, resources) in by_group(&read_only, false)
        .into_iter()
        .chain(by_group(&read_only, true))
    {
        rules.push(rule(&group, resources, &READ_VERBS));
    }
    for (group, resources) in by_group(&cleanable, false)
        .into_iter()
        .chain(by_group(&cleanable, true))
    {
        rules.push(rule(&group, resources, &CLEAN_VERBS));
    }
    rules.push(rule("", vec!["pods/log".into()], &["get"]));
    // kubectl exec posts to pods/exec; over WebSockets (kubectl 1.31 and later) it starts as a GET.
    rules.push(rule("", vec!["pods/exec".into()], &["get", "create"]));
    let scalable: Vec<String> = authored
        .iter()
        .filter(|k| matches!(k.known(), Some(Known::Deployment)))
        .map(|k| format!("{}/scale", k.plural))
        .collect();
    if !scalable.is_empty() {
        rules.push(rule("apps", scalable, &["get", "update", "patch"]));
    }
    rules
}

fn policy_text(out: &mut String, rules: &[PolicyRule]) {
    let quoted = |items: &[String]| {
        items
            .iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "rules:");
    for r in rules {
        let _ = writeln!(
            out,
            "  - apiGroups: [{}]",
            quoted(r.api_groups.as_deref().unwrap_or_default())
        );
        let _ = writeln!(
            out,
            "    resources: [{}]",
            quoted(r.resources.as_deref().unwrap_or_default())
        );
        let _ = writeln!(out, "    verbs: [{}]", quoted(&r.verbs));
    }
}

/// The ClusterRole `kubelab class up`, `status` and `down` need: namespaces and what kubelab
/// puts in each (a ServiceAccount and its tokens, a Role and RoleBinding, a ResourceQuota and a
/// LimitRange), Events to see activity, and the learner's own rules, because Kubernetes lets
/// only someone who holds a permission grant it.
pub fn class_admin(course: &Course) -> String {
    let mut out = String::from(
        "# What an instructor needs to run `kubelab class up`, `status` and `down` on a shared cluster,\n\
         # derived from the course (`kubelab rbac --scope class`; a test keeps this file equal to it):\n\
         #   kubectl apply -f deploy/kubelab-class-admin.yaml\n\
         #   kubectl create clusterrolebinding kubelab-class-admin --clusterrole=kubelab-class-admin --user=NAME\n\
         # It manages namespaces and the ServiceAccount, Role, RoleBinding, ResourceQuota and\n\
         # LimitRange kubelab puts in each, and holds every permission the learners' Role grants\n\
         # (Kubernetes lets only someone who holds a permission grant it).\n",
    );
    if authored_kinds(course)
        .iter()
        .any(|k| k.known() == Some(Known::Secret))
    {
        out.push_str(
            "# The learners write Secrets in their namespaces, so this holds Secrets in every\n\
             # namespace: bind it to the instructor who sets the class up, not to a grader.\n",
        );
    }
    header(&mut out, "ClusterRole", "kubelab-class-admin");
    let manage = [
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    let mut rules = vec![
        rule(
            "",
            vec![
                "limitranges".into(),
                "namespaces".into(),
                "resourcequotas".into(),
                "serviceaccounts".into(),
            ],
            &manage,
        ),
        rule("", vec!["serviceaccounts/token".into()], &["create"]),
        rule("", vec!["events".into()], &READ_VERBS),
        rule(
            "rbac.authorization.k8s.io",
            vec!["rolebindings".into(), "roles".into()],
            &manage,
        ),
        rule(
            "authorization.k8s.io",
            vec!["selfsubjectaccessreviews".into()],
            &["create"],
        ),
    ];
    rules.extend(learner_rules(course));
    policy_text(&mut out, &rules);
    out
}

/// The files of `deploy/` this module writes, by name.
pub fn files(course: &Course) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("kubelab-reader.yaml", reader(course)),
        ("kubelab-grader.yaml", grader(course)),
        ("kubelab-class-admin.yaml", class_admin(course)),
    ];
    if let Some(secrets) = grader_secrets(course) {
        out.push(("kubelab-grader-secrets.yaml", secrets));
    }
    out
}
