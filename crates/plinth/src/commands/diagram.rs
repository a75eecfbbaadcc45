//! `plinth diagram`: the platform as a picture (SVG), or as Graphviz DOT or Mermaid for docs.

use super::{check_env, load_valid};
use crate::cli::{DiagramArgs, DiagramFormat};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::advise::diagram::{self, Format};

pub fn run(ui: &Ui, args: DiagramArgs) -> Result<Exit, CliError> {
    let v = load_valid(ui, &args.dir.dir)?;
    if let Some(env) = &args.env {
        check_env(&v.platform, env)?;
    }
    let d = diagram::build(&v.platform, &v.resolution, args.env.as_deref());
    let format = match args.format {
        DiagramFormat::Svg => Format::Svg,
        DiagramFormat::Dot => Format::Dot,
        DiagramFormat::Mermaid => Format::Mermaid,
    };
    let text = diagram::render(&d, format);
    match &args.out {
        Some(path) => {
            plinth_core::fsutil::write_atomic(path, text.as_bytes())?;
            ui.status(&format!("{} {}", ui.green("Wrote"), path.display()));
        }
        None => ui.data(&text),
    }
    Ok(Exit::Ok)
}
