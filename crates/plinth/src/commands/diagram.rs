//! `plinth diagram`: the platform as a picture (SVG), or as Graphviz DOT or Mermaid for docs.

use super::{check_env, load_valid};
use crate::cli::{DiagramArgs, DiagramFormat};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::advise::diagram::{self, Format};

pub fn run(ui: &Ui, args: DiagramArgs) -> Result<Exit, CliError> {
    let v = load_valid(ui, &args.dir.path())?;
    if let Some(env) = &args.env {
        check_env(&v.platform, env)?;
    }
    let d = diagram::build(&v.platform, &v.resolution, args.env.as_deref());
    let format = match args.output {
        Some(f) => f,
        None => match &args.out {
            Some(path) => format_of(path)?,
            None => DiagramFormat::Svg,
        },
    };
    let format = match format {
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

/// The format a file name asks for; an extension Plinth cannot write is refused rather than
/// answered with another format under that name.
fn format_of(path: &std::path::Path) -> Result<DiagramFormat, CliError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "svg" => Ok(DiagramFormat::Svg),
        "dot" | "gv" => Ok(DiagramFormat::Dot),
        "mmd" | "mermaid" | "md" => Ok(DiagramFormat::Mermaid),
        "png" | "jpg" | "jpeg" | "pdf" => Err(CliError::refused(
            format!("Plinth draws SVG, DOT and Mermaid, not `.{ext}`"),
            Some(format!(
                "write SVG and convert it: `plinth diagram --out platform.svg && rsvg-convert -o {} platform.svg`",
                path.display()
            )),
        )),
        _ => Err(CliError::refused(
            format!("cannot tell the format from `{}`", path.display()),
            Some(
                "name the file `.svg`, `.dot` or `.mmd`, or say `--output svg|dot|mermaid`".into(),
            ),
        )),
    }
}
