use crate::cli::{Cli, CompletionsArgs, SchemaArgs};
use crate::ui::Ui;
use crate::{CliError, Exit};
use clap::CommandFactory;
use plinth_core::schema::{self, Target};

pub fn run(ui: &Ui, args: SchemaArgs) -> Result<Exit, CliError> {
    if args.markdown {
        ui.data(&schema::reference_markdown());
    } else {
        let target = if args.cluster_file {
            Target::ClusterFile
        } else {
            Target::Root
        };
        ui.json(&schema::schema(target));
    }
    Ok(Exit::Ok)
}

pub fn completions(ui: &Ui, args: CompletionsArgs) -> Result<Exit, CliError> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "plinth", &mut buf);
    ui.data(&String::from_utf8_lossy(&buf));
    Ok(Exit::Ok)
}
