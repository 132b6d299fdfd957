//! The objects an exercise is about, resolved from the course file: each target's kind, its
//! name or label selector, and the key by which assertions, facts and messages name it (`web`,
//! or `Service/web` when a Deployment is called `web` too). Also what gathering must list for
//! them ([`Plan`]): the targets' kinds and the kinds their facts need.

use serde::Serialize;

use crate::kinds::{ApiKind, KindRef, Known};
use crate::model::Target;
use crate::selector::Selector;

/// One target, ready to be found in a manifest or a namespace.
#[derive(Debug, Clone, Serialize)]
pub struct TargetRef {
    /// How the exercise names it: its `id`, its name, or `Kind/name` when another target
    /// shares the name; a selector target's is `Kind/selector` unless it has an `id`.
    pub key: String,
    pub kind: KindRef,
    /// Resolved when the kind is built in; a custom kind is resolved by discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip)]
    pub selector: Option<Selector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector_text: Option<String>,
    /// How many objects a selector target expects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl TargetRef {
    /// `Deployment/web`, or `Pods labelled app=v1`.
    pub fn label(&self) -> String {
        match (&self.name, &self.selector_text) {
            (Some(n), _) => format!("{}/{n}", self.kind.kind),
            (None, Some(s)) => format!("{}s labelled {s}", self.kind.kind),
            (None, None) => self.kind.kind.clone(),
        }
    }

    /// In words: `Job named image-processor`, `Pods labelled app=v1`.
    pub fn described(&self) -> String {
        match (&self.name, &self.selector_text) {
            (Some(n), _) => format!("{} named {n}", self.kind.kind),
            (None, Some(s)) => format!("{}s labelled {s}", self.kind.kind),
            (None, None) => self.kind.kind.clone(),
        }
    }

    /// The typed kind, when kubelab has facts of its own for it.
    pub fn known(&self) -> Option<Known> {
        self.api.as_ref().and_then(ApiKind::known)
    }

    pub fn is(&self, known: Known) -> bool {
        self.known() == Some(known)
    }

    /// Whether an object (by apiVersion, kind, name and labels) is this target's.
    pub fn matches(
        &self,
        api_version: &str,
        kind: &str,
        name: Option<&str>,
        labels: Option<&serde_json::Value>,
    ) -> bool {
        if !self.kind.matches(api_version, kind) {
            return false;
        }
        match (&self.name, &self.selector) {
            (Some(n), _) => name == Some(n.as_str()),
            (None, Some(sel)) => sel.matches_json(labels),
            (None, None) => false,
        }
    }
}

/// A problem with a target, at its index in the exercise's `targets`.
pub type TargetProblem = (usize, &'static str, String);

/// Resolves the course's targets, giving each its key; every problem found is returned with
/// the target's index and field.
pub fn resolve(targets: &[Target]) -> Result<Vec<TargetRef>, Vec<TargetProblem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let kind = KindRef {
            kind: t.kind.clone(),
            api_version: t.api_version.clone(),
        };
        let api = match kind.resolve_offline() {
            Ok(api) => api,
            Err(m) => {
                problems.push((i, "apiVersion", m));
                None
            }
        };
        if api.as_ref().is_some_and(|a| !a.namespaced) {
            problems.push((
                i,
                "kind",
                format!(
                    "{} is not namespaced; kubelab judges what is in a namespace",
                    t.kind
                ),
            ));
        }
        if api.is_none() && kind.api_version.is_none() {
            problems.push((
                i,
                "kind",
                format!(
                    "kubelab does not know kind `{}` by name; give its `apiVersion` (e.g. `example.com/v1`) so the cluster's discovery can find it",
                    t.kind
                ),
            ));
        }
        let selector = match &t.selector {
            Some(s) => match Selector::parse(s) {
                Ok(sel) => Some(sel),
                Err(m) => {
                    problems.push((i, "selector", m));
                    None
                }
            },
            None => None,
        };
        match (&t.name, &t.selector) {
            (Some(_), Some(_)) => problems.push((
                i,
                "selector",
                "give `name` or `selector`, not both".to_owned(),
            )),
            (None, None) => problems.push((i, "name", "give `name` or `selector`".to_owned())),
            _ => {}
        }
        if t.count.is_some() && t.selector.is_none() {
            problems.push((
                i,
                "count",
                "`count` goes with `selector` (a named target is one object)".to_owned(),
            ));
        }
        out.push(TargetRef {
            key: String::new(),
            kind,
            api,
            name: t.name.clone(),
            selector,
            selector_text: t.selector.clone(),
            count: t.count,
        });
    }
    name_keys(targets, &mut out, &mut problems);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Each target's key: its id, else its bare name when no other target has that name, else
/// `Kind/name`; keys must be unique.
fn name_keys(targets: &[Target], out: &mut [TargetRef], problems: &mut Vec<TargetProblem>) {
    let names: Vec<Option<&String>> = targets.iter().map(|t| t.name.as_ref()).collect();
    for (i, t) in targets.iter().enumerate() {
        let shared = t
            .name
            .as_ref()
            .is_some_and(|n| names.iter().filter(|m| *m == &Some(n)).count() > 1);
        out[i].key = match (&t.id, &t.name, &t.selector) {
            (Some(id), _, _) => id.clone(),
            (None, Some(n), _) if !shared => n.clone(),
            (None, Some(n), _) => format!("{}/{n}", t.kind),
            (None, None, Some(s)) => format!("{}/{s}", t.kind),
            (None, None, None) => format!("{}#{i}", t.kind),
        };
    }
    for i in 0..out.len() {
        if out[..i].iter().any(|o| o.key == out[i].key) {
            problems.push((
                i,
                "name",
                format!(
                    "duplicate target `{}`: two targets of the same kind and name",
                    out[i].key
                ),
            ));
        }
    }
}

/// The target an assertion's `object` names: its key, `Kind/name`, or a bare name that only
/// one target has. A bare name two targets share is ambiguous: say which to write.
pub fn find<'a>(targets: &'a [TargetRef], reference: &str) -> Result<&'a TargetRef, String> {
    if let Some(t) = targets.iter().find(|t| t.key == reference) {
        return Ok(t);
    }
    if let Some(t) = targets.iter().find(|t| {
        t.name
            .as_ref()
            .is_some_and(|n| format!("{}/{n}", t.kind.kind) == reference)
    }) {
        return Ok(t);
    }
    let by_name: Vec<&TargetRef> = targets
        .iter()
        .filter(|t| t.name.as_deref() == Some(reference))
        .collect();
    match by_name.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "`{reference}` is not one of this exercise's targets ({})",
            targets
                .iter()
                .map(|t| t.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        many => Err(format!(
            "`{reference}` is ambiguous: {} are {} named so; write {}",
            many.iter()
                .map(|t| t.label())
                .collect::<Vec<_>>()
                .join(" and "),
            if many.len() == 2 { "both" } else { "all" },
            many.iter()
                .map(|t| format!("`{}`", t.key))
                .collect::<Vec<_>>()
                .join(" or ")
        )),
    }
}

/// What gathering lists for an exercise: the targets, and every kind they and the
/// assertions need (one LIST each), and whose pod logs are read.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub targets: Vec<TargetRef>,
    /// Each kind once: the targets' own, what their facts need, what assertions count.
    pub kinds: Vec<KindRef>,
    /// Targets (by key) whose pods' logs are judged: every Job (its pods' logs explain its
    /// failures), and any target an assertion or a pitfall reads logs of.
    pub logs_of: Vec<String>,
}

impl Plan {
    /// The plan for these targets; `extra` adds kinds assertions count or require gone, and
    /// `logs_of` the targets whose logs are judged besides the Jobs.
    pub fn new(targets: Vec<TargetRef>, extra: &[KindRef], logs_of: &[String]) -> Plan {
        let mut kinds: Vec<KindRef> = Vec::new();
        let mut add = |k: KindRef| {
            if !kinds.iter().any(|x| x.kind == k.kind) {
                kinds.push(k);
            }
        };
        for t in &targets {
            match t.known() {
                Some(known) => known
                    .needs()
                    .iter()
                    .for_each(|n| add(KindRef::new(n.name()))),
                None => {
                    add(t.kind.clone());
                    add(KindRef::new("Event"));
                }
            }
        }
        for k in extra {
            add(k.clone());
        }
        let mut logs: Vec<String> = targets
            .iter()
            .filter(|t| t.is(Known::Job))
            .map(|t| t.key.clone())
            .collect();
        for l in logs_of {
            if !logs.contains(l) {
                logs.push(l.clone());
            }
        }
        Plan {
            targets,
            kinds,
            logs_of: logs,
        }
    }

    /// Whether this kind is listed.
    pub fn lists(&self, known: Known) -> bool {
        self.kinds.iter().any(|k| k.kind == known.name())
    }

    pub fn target(&self, key: &str) -> Option<&TargetRef> {
        self.targets.iter().find(|t| t.key == key)
    }

    /// One plan for several exercises (a class graded at once): every kind once, every
    /// distinct target once (keys made unique), logs read for all that any reads.
    pub fn merge<'a>(plans: impl IntoIterator<Item = &'a Plan>) -> Plan {
        let mut out = Plan::default();
        for p in plans {
            for k in &p.kinds {
                if !out.kinds.iter().any(|x| x.kind == k.kind) {
                    out.kinds.push(k.clone());
                }
            }
            for t in &p.targets {
                let same = |o: &TargetRef| {
                    o.kind.kind == t.kind.kind
                        && o.name == t.name
                        && o.selector_text == t.selector_text
                };
                let key = match out.targets.iter().find(|o| same(o)) {
                    Some(o) => o.key.clone(),
                    None => {
                        let mut t = t.clone();
                        if out.targets.iter().any(|o| o.key == t.key) {
                            t.key = format!("{}#{}", t.key, out.targets.len());
                        }
                        out.targets.push(t.clone());
                        t.key
                    }
                };
                if p.logs_of.contains(&t.key) && !out.logs_of.contains(&key) {
                    out.logs_of.push(key);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: &str, name: Option<&str>, selector: Option<&str>) -> Target {
        Target {
            kind: kind.into(),
            api_version: None,
            id: None,
            name: name.map(str::to_owned),
            selector: selector.map(str::to_owned),
            count: None,
        }
    }

    #[test]
    fn shared_names_get_kind_keys_and_bare_names_are_ambiguous() {
        let t = resolve(&[
            target("Deployment", Some("web"), None),
            target("Service", Some("web"), None),
            target("ConfigMap", Some("options"), None),
            target("Pod", None, Some("app=v1")),
        ])
        .unwrap();
        let keys: Vec<&str> = t.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(
            keys,
            ["Deployment/web", "Service/web", "options", "Pod/app=v1"]
        );
        assert!(find(&t, "web").unwrap_err().contains("ambiguous"));
        assert_eq!(find(&t, "Service/web").unwrap().key, "Service/web");
        assert_eq!(find(&t, "ConfigMap/options").unwrap().key, "options");
        assert!(find(&t, "nope").is_err());
    }

    #[test]
    fn a_plan_lists_each_kind_once() {
        let t = resolve(&[
            target("Deployment", Some("web"), None),
            target("Service", Some("web"), None),
        ])
        .unwrap();
        let p = Plan::new(t, &[KindRef::new("Job")], &[]);
        let kinds: Vec<&str> = p.kinds.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Deployment",
                "ReplicaSet",
                "Pod",
                "Event",
                "Service",
                "EndpointSlice",
                "Job"
            ]
        );
    }

    #[test]
    fn mistakes_in_targets_are_said() {
        let e = resolve(&[target("Namespace", Some("x"), None)]).unwrap_err();
        assert!(e[0].2.contains("not namespaced"), "{e:?}");
        let e = resolve(&[target("Widget", Some("x"), None)]).unwrap_err();
        assert!(e[0].2.contains("apiVersion"), "{e:?}");
        let e = resolve(&[target("Pod", None, None)]).unwrap_err();
        assert!(e[0].2.contains("name"), "{e:?}");
    }
}
