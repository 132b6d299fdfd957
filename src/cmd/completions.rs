//! `kubelab completions`: a shell completion script from the command-line definition.

use clap::Args;

use crate::error::{Error, exit};

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `cli` is the whole command line's definition (`Cli::command()`).
pub fn completions(args: CompletionsArgs, mut cli: clap::Command) -> Result<i32, Error> {
    let cmd = &mut cli;
    clap_complete::generate(args.shell, cmd, "kubelab", &mut std::io::stdout());
    Ok(exit::PASSED)
}
