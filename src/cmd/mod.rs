//! One file per subcommand: each wires the layers below (course, cluster, judge, outputs)
//! for one command and prints its result. (Older subcommands still live in `cli.rs`.)

pub mod book;
pub mod grade;
