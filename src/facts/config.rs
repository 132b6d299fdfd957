//! A ConfigMap's or a Secret's facts: its keys (a Secret's values are never read into kubelab)
//! and the pods that consume it (env `valueFrom`, `envFrom`, volumes, projected volumes), with
//! the keys they ask for that it does not have.

use serde::Serialize;

use super::relations::uses;
use crate::kinds::Known;
use crate::snapshot::Snapshot;

/// A pod using the ConfigMap or Secret.
#[derive(Debug, Clone, Serialize)]
pub struct Consumer {
    /// `Pod/web-5d8f-x2k9`.
    pub object: String,
    /// What owns the pod, when something does: `ReplicaSet/web-5d8f`, `Job/report-1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// How: `env GREETING of container app`, `envFrom of container app`, `volume config`.
    pub how: Vec<String>,
    /// Keys it names.
    pub keys: Vec<String>,
    /// Keys it names that are not there.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigFacts {
    pub found: bool,
    pub name: String,
    /// One line: "2 keys (color, greeting), used by 3 pods".
    pub state: String,
    pub keys: Vec<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    pub consumers: Vec<Consumer>,
    /// Keys some consumer asks for that it lacks.
    pub missing_keys: Vec<String>,
}

/// The facts of the ConfigMap (or Secret) `name`; `kind` says which.
pub fn of(s: &Snapshot, kind: Known, name: &str) -> ConfigFacts {
    let (keys, type_, immutable, found) = match kind {
        Known::ConfigMap => match s
            .config_maps
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(name))
        {
            Some(c) => {
                let mut keys: Vec<String> =
                    c.data.iter().flatten().map(|(k, _)| k.clone()).collect();
                keys.extend(c.binary_data.iter().flatten().map(|(k, _)| k.clone()));
                keys.sort();
                (keys, None, c.immutable, true)
            }
            None => (Vec::new(), None, None, false),
        },
        _ => match s
            .secrets
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(name))
        {
            Some(sec) => (sec.keys.clone(), sec.type_.clone(), sec.immutable, true),
            None => (Vec::new(), None, None, false),
        },
    };
    let mut consumers = Vec::new();
    let mut missing_keys: Vec<String> = Vec::new();
    for p in &s.pods {
        let Some(spec) = &p.spec else { continue };
        let used = uses(spec, kind, name);
        if used.is_empty() {
            continue;
        }
        let mut named: Vec<String> = used.iter().flat_map(|(_, k)| k.iter().cloned()).collect();
        named.sort();
        named.dedup();
        let missing: Vec<String> = named
            .iter()
            .filter(|k| found && !keys.contains(k))
            .cloned()
            .collect();
        for m in &missing {
            if !missing_keys.contains(m) {
                missing_keys.push(m.clone());
            }
        }
        consumers.push(Consumer {
            object: format!("Pod/{}", p.metadata.name.as_deref().unwrap_or("")),
            owner: p
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.controller == Some(true))
                .map(|o| format!("{}/{}", o.kind, o.name)),
            how: used.into_iter().map(|(h, _)| h).collect(),
            keys: named,
            missing,
        });
    }
    consumers.sort_by(|a, b| a.object.cmp(&b.object));
    let mut f = ConfigFacts {
        found,
        name: name.to_owned(),
        state: String::new(),
        keys,
        type_,
        immutable,
        consumers,
        missing_keys,
    };
    f.state = if found {
        state_line(&f)
    } else {
        "not found".into()
    };
    f
}

fn state_line(f: &ConfigFacts) -> String {
    let keys = if f.keys.is_empty() {
        "no keys".to_owned()
    } else {
        format!(
            "{} ({})",
            crate::text::count(f.keys.len(), "key", "keys"),
            f.keys.join(", ")
        )
    };
    let used = match f.consumers.len() {
        0 => "used by no pod".to_owned(),
        n => format!("used by {}", crate::text::count(n, "pod", "pods")),
    };
    let mut s = format!("{keys}, {used}");
    if !f.missing_keys.is_empty() {
        s.push_str(&format!(
            "; pods ask for {} it does not have",
            f.missing_keys
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s
}
