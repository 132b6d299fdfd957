//! The API server's own rules for a pod spec (a Pod's, or a workload's template): at least one
//! container, each with an image and a name that is a DNS label. Its words were recorded on
//! 1.36 with `kubectl apply --dry-run=server`; the schema alone lets all three through.

use serde_json::Value as Json;

use super::{Finding, Object, api_rule, pod_spec_pointer};
use crate::yaml::Source;

/// The API server's pattern for a container name (a DNS-1123 label), and its words for it.
const LABEL_RULE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Every refusal of the object's pod spec.
pub fn check(source: &Source, obj: &Object) -> Vec<Finding> {
    let Some(spec) = pod_spec_pointer(&obj.kind) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let at = format!("{spec}/containers");
    let containers = obj.json.pointer(&at).and_then(Json::as_array);
    if containers.is_none_or(|c| c.is_empty()) {
        out.push(api_rule(
            source,
            obj,
            &at,
            "Required value".to_owned(),
            "a pod needs at least one container: `containers:` with a `- name:` and an `image:`",
        ));
    }
    for (i, c) in containers.into_iter().flatten().enumerate() {
        let here = |field: &str| format!("{at}/{i}/{field}");
        if c.get("image")
            .and_then(Json::as_str)
            .is_none_or(str::is_empty)
        {
            out.push(api_rule(
                source,
                obj,
                &here("image"),
                "Required value".to_owned(),
                "give the container an image, e.g. `image: busybox:1.35`",
            ));
        }
        if let Some(name) = c.get("name").and_then(Json::as_str)
            && !is_dns_label(name)
        {
            let shown: String = crate::text::clean(name).chars().take(80).collect();
            out.push(api_rule(
                source,
                obj,
                &here("name"),
                format!("Invalid value: {shown:?}: {LABEL_RULE}"),
                "name the container in lower case letters, digits and `-`, e.g. `worker`",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn dns_labels_as_the_api_server_reads_them() {
        for good in ["a", "worker", "w-1", "123-abc", &"a".repeat(63)] {
            assert!(super::is_dns_label(good), "{good}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "Bad",
            "a_b",
            "a.b",
            "proc\u{1b}[5m",
            &"a".repeat(64),
        ] {
            assert!(!super::is_dns_label(bad), "{bad}");
        }
    }
}
