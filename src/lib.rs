//! kubelab: a lab-exercise grader and courseware runner for Kubernetes courses.
//!
//! Data flows one way: [`course`] loads and compiles the course; the learner's work is gathered
//! (a manifest by [`manifest`], cluster state by the live checker); [`check`] judges it; and
//! [`report`] prints it. [`cli`] wires commands to that flow.

pub mod board;
pub mod book;
pub mod bundle;
pub mod check;
pub mod class;
pub mod clean;
pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod confidence;
pub mod course;
pub mod error;
pub mod facts;
pub mod follow;
pub mod grade;
pub mod junit;
pub mod kinds;
pub mod lint;
pub mod live;
pub mod manifest;
pub mod model;
pub mod offline;
pub mod quiz;
pub mod race;
pub mod rbac;
pub mod report;
pub mod run;
pub mod schema;
pub mod selector;
pub mod show;
pub mod snapshot;
pub mod state;
pub mod target;
pub mod text;
pub mod timeline;
pub mod verdict;
pub mod wait;
pub mod watch;
pub mod yaml;

pub use error::{Error, Result};
