//! `kubelab rbac`: the read-only RBAC that judging the course needs, printed or written to
//! `deploy/`.

use clap::Args;
use std::path::PathBuf;

use crate::course::Course;
use crate::error::{Error, exit};
use crate::rbac::Scope;

#[derive(Args, Debug)]
pub struct RbacArgs {
    /// A Role for one namespace (a learner's, or one an instructor checks), or the grader's
    /// ClusterRole for a class (Secrets as a namespaced Role beside it).
    #[arg(long, value_enum, default_value_t = Scope::Namespace)]
    pub scope: Scope,
    /// Write every file of `deploy/` (reader Role, grader ClusterRole, the Secrets Role) into
    /// this folder instead of printing.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
}

pub fn rbac(args: RbacArgs, course: &Course) -> Result<i32, Error> {
    if let Some(dir) = args.write {
        for (name, text) in crate::rbac::files(course) {
            let path = dir.join(name);
            super::write_atomically(&path, text.as_bytes())?;
            println!("wrote {}", path.display());
        }
        return Ok(exit::PASSED);
    }
    match args.scope {
        Scope::Namespace => print!("{}", crate::rbac::reader(course)),
        Scope::Cluster => {
            print!("{}", crate::rbac::grader(course));
            if let Some(secrets) = crate::rbac::grader_secrets(course) {
                print!("---\n{secrets}");
            }
        }
        Scope::Class => print!("{}", crate::rbac::class_admin(course)),
    }
    Ok(exit::PASSED)
}
