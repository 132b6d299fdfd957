//! A class's objects of the kinds a namespace holds many of (pods, Events), kept from the
//! cluster-wide LIST until their learner's turn as compact JSON, by namespace. Typed, a class
//! of 60 x 20 pods held 25 MiB for the whole grade (heaptrack on benches/class_load.rs), as
//! much as the logs being read; as JSON it is a few MiB. Each learner's share is typed again
//! when it is taken, and its bytes freed, so the shelf empties as the grade goes.

use std::collections::HashMap;
use std::marker::PhantomData;

use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Objects of kind `K`, as JSON, by namespace.
pub struct Shelf<K> {
    by_namespace: HashMap<String, Vec<Box<[u8]>>>,
    kind: PhantomData<fn() -> K>,
}

impl<K> Default for Shelf<K> {
    fn default() -> Self {
        Shelf {
            by_namespace: HashMap::new(),
            kind: PhantomData,
        }
    }
}

impl<K: Resource + Serialize + DeserializeOwned> Shelf<K> {
    /// Puts a page of objects on the shelf; the typed page is dropped.
    pub fn put(&mut self, page: Vec<K>) {
        for object in page {
            let namespace = object.meta().namespace.clone().unwrap_or_default();
            let json = serde_json::to_vec(&object).expect("API objects serialise");
            self.by_namespace
                .entry(namespace)
                .or_default()
                .push(json.into_boxed_slice());
        }
    }

    /// Takes a namespace's objects off the shelf, typed again, in the order they were listed.
    pub fn take(&mut self, namespace: &str) -> Result<Vec<K>, Error> {
        let shelved = self.by_namespace.remove(namespace).unwrap_or_default();
        shelved
            .iter()
            .map(|json| {
                serde_json::from_slice(json).map_err(|e| Error::Cluster {
                    message: format!(
                        "an object listed in namespace {namespace} could not be read back: {e}"
                    ),
                    help: Some(
                        "this is a bug in kubelab: please report it with the kubelab version"
                            .into(),
                    ),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Shelf;
    use k8s_openapi::api::core::v1::{Event, Pod};
    use serde::de::DeserializeOwned;

    /// A list recorded from the real 1.36 cluster.
    fn recorded<K: DeserializeOwned>(file: &str) -> Vec<K> {
        let path = format!(
            "{}/tests/fixtures/k8s-1.36/u3-dynamic-workload/api/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let list: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        serde_json::from_value(list["items"].clone()).unwrap()
    }

    fn in_namespace<K: kube::Resource>(items: Vec<K>, namespace: &str) -> Vec<K> {
        let mut items = items;
        for i in &mut items {
            i.meta_mut().namespace = Some(namespace.into());
        }
        items
    }

    /// Real pods and Events come back whole and in order, each namespace's once; the others
    /// stay until their turn.
    #[test]
    fn recorded_objects_come_back_whole_by_namespace_and_once() {
        let pods: Vec<Pod> = recorded("pods.PodList.json");
        let events: Vec<Event> = recorded("events.EventList.json");
        assert!(pods.len() > 1 && events.len() > 1);
        let (a, b) = (in_namespace(pods.clone(), "a"), in_namespace(pods, "b"));
        let mut shelf = Shelf::default();
        let (first, rest) = a.split_at(1);
        shelf.put(first.to_vec());
        shelf.put([b.clone(), rest.to_vec()].concat());
        assert_eq!(shelf.take("a").unwrap(), a);
        assert!(shelf.take("a").unwrap().is_empty());
        assert_eq!(shelf.take("b").unwrap(), b);
        assert!(shelf.by_namespace.is_empty());
        let mut shelf = Shelf::default();
        let namespace = events[0].metadata.namespace.clone().unwrap();
        shelf.put(events.clone());
        assert_eq!(shelf.take(&namespace).unwrap(), events);
    }
}
