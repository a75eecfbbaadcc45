use crate::cli::InitArgs;
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::scaffold;

pub fn run(ui: &Ui, args: InitArgs) -> Result<Exit, CliError> {
    let example = scaffold::example(args.example.name())
        .ok_or_else(|| CliError::refused(format!("no example `{}`", args.example.name()), None))?;
    let name = match args.name {
        Some(n) => n,
        None => std::path::absolute(&args.dir)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| example.name.to_string()),
    };
    let files = scaffold::init(&args.dir, example, &name)?;
    ui.status(&format!(
        "{} platform `{name}` in `{}` from the {} example ({})",
        ui.green("Created"),
        args.dir.display(),
        example.name,
        example.summary
    ));
    for f in &files {
        ui.status(&format!("  {}", f.display()));
    }
    let d = if args.dir == std::path::Path::new(".") {
        String::new()
    } else {
        format!(" {}", args.dir.display())
    };
    ui.status(&format!(
        "\nNext:\n  plinth validate{d}\n  plinth generate{d}\n  plinth show{d} --env ops"
    ));
    Ok(Exit::Ok)
}
