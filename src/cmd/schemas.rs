//! `kubelab schemas`: the JSON Schemas of the course files, printed or written to checks/schemas/.

use std::path::Path;

use clap::Args;

use crate::course;
use crate::error::{Error, exit};

#[derive(Args, Debug)]
pub struct SchemasArgs {
    /// Write them into the course's checks/schemas/ instead of printing.
    #[arg(long)]
    pub write: bool,
}

pub fn schemas(args: SchemasArgs, course_flag: Option<&Path>) -> Result<i32, Error> {
    let SchemasArgs { write } = args;
    let files = course::schema_files();
    if write {
        let root = course::discover(course_flag)?;
        let dir = root.join("checks").join("schemas");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir.display().to_string(), e))?;
        let kube_dir = dir.join("kubernetes");
        std::fs::create_dir_all(&kube_dir)
            .map_err(|e| Error::io(&kube_dir.display().to_string(), e))?;
        let kube = crate::manifest::kube_schema::KINDS
            .iter()
            .filter_map(|(v, k)| {
                crate::manifest::kube_schema::schema_json(v, k).map(|s| {
                    (
                        format!(
                            "kubernetes/{}",
                            crate::manifest::kube_schema::file_name(v, k)
                        ),
                        s,
                    )
                })
            });
        let all: Vec<(String, serde_json::Value)> = files
            .into_iter()
            .map(|(n, s)| (n.to_owned(), s))
            .chain(kube)
            .collect();
        for (name, schema) in all {
            let path = dir.join(name);
            let text = serde_json::to_string_pretty(&schema).expect("json") + "\n";
            std::fs::write(&path, text).map_err(|e| Error::io(&path.display().to_string(), e))?;
            println!("wrote {}", path.display());
        }
    } else {
        let all: serde_json::Map<String, serde_json::Value> =
            files.into_iter().map(|(n, s)| (n.to_owned(), s)).collect();
        println!("{}", serde_json::to_string_pretty(&all).expect("json"));
    }
    Ok(exit::PASSED)
}
