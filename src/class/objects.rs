//! The objects `class up` applies for one learner, typed: their Namespace, a ServiceAccount,
//! the Role and RoleBinding of the course's learner rules, a ResourceQuota and a LimitRange.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota, ResourceQuotaSpec,
    ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::budget::{Budget, Demand, Resources, cpu, memory};
use super::{
    ADOPTED_ANNOTATION, LIMIT_RANGE, QUOTA, ROLE, SERVICE_ACCOUNT, Seat, TOKEN_EXPIRES_ANNOTATION,
    labels,
};
use crate::grade::roster::LEARNER_ID_ANNOTATION;

fn meta(
    name: &str,
    namespace: Option<&str>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: Some(labels),
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..ObjectMeta::default()
    }
}

pub fn namespace(class: &str, seat: &Seat, adopted: bool) -> Namespace {
    let mut annotations =
        BTreeMap::from([(LEARNER_ID_ANNOTATION.to_owned(), seat.learner.id.clone())]);
    if adopted {
        annotations.insert(ADOPTED_ANNOTATION.to_owned(), "true".to_owned());
    }
    Namespace {
        metadata: meta(
            &seat.namespace,
            None,
            labels(class, Some(&seat.label)),
            annotations,
        ),
        ..Namespace::default()
    }
}

pub fn service_account(class: &str, seat: &Seat, expires: Option<&str>) -> ServiceAccount {
    let annotations = expires
        .map(|e| BTreeMap::from([(TOKEN_EXPIRES_ANNOTATION.to_owned(), e.to_owned())]))
        .unwrap_or_default();
    ServiceAccount {
        metadata: meta(
            SERVICE_ACCOUNT,
            Some(&seat.namespace),
            labels(class, Some(&seat.label)),
            annotations,
        ),
        ..ServiceAccount::default()
    }
}

pub fn role(class: &str, seat: &Seat, rules: &[PolicyRule]) -> Role {
    Role {
        metadata: meta(
            ROLE,
            Some(&seat.namespace),
            labels(class, Some(&seat.label)),
            BTreeMap::new(),
        ),
        rules: Some(rules.to_vec()),
    }
}

pub fn role_binding(class: &str, seat: &Seat) -> RoleBinding {
    RoleBinding {
        metadata: meta(
            ROLE,
            Some(&seat.namespace),
            labels(class, Some(&seat.label)),
            BTreeMap::new(),
        ),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name: ROLE.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: SERVICE_ACCOUNT.into(),
            namespace: Some(seat.namespace.clone()),
            ..Subject::default()
        }]),
    }
}

pub fn quota(class: &str, seat: &Seat, hard: &Demand) -> ResourceQuota {
    ResourceQuota {
        metadata: meta(
            QUOTA,
            Some(&seat.namespace),
            labels(class, Some(&seat.label)),
            BTreeMap::new(),
        ),
        spec: Some(ResourceQuotaSpec {
            hard: Some(
                hard.hard()
                    .into_iter()
                    .map(|(k, v)| (k, Quantity(v)))
                    .collect(),
            ),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    }
}

fn quantities(r: Resources) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_owned(), Quantity(cpu(r.cpu_millis))),
        ("memory".to_owned(), Quantity(memory(r.memory_bytes))),
    ])
}

pub fn limit_range(class: &str, seat: &Seat, budget: &Budget) -> LimitRange {
    LimitRange {
        metadata: meta(
            LIMIT_RANGE,
            Some(&seat.namespace),
            labels(class, Some(&seat.label)),
            BTreeMap::new(),
        ),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".into(),
                default: Some(quantities(budget.default_limit)),
                default_request: Some(quantities(budget.default_request)),
                ..LimitRangeItem::default()
            }],
        }),
    }
}
