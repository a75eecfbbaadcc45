//! `terraform-provider-double`: a Terraform provider that serves a real provider's schema
//! (from a `terraform providers schema -json` dump) and fakes its behaviour, so terraform can
//! init, validate, plan and apply offline. Install it as
//! `terraform-provider-<type>_v<version>`: the `<type>` part of its own file name picks the
//! schema `$PLINTH_TF_DOUBLE_SCHEMAS/<type>.json`.

use std::path::Path;
use std::process::ExitCode;

use tf_double::provider::{provider_type_from_exe, serve};

/// The name this executable was started under: Terraform runs the installed file name,
/// whereas `current_exe` would resolve a symlinked install to this binary's real name.
fn invoked_name() -> Option<String> {
    let arg0 = std::env::args_os().next()?;
    let name = Path::new(&arg0).file_name()?.to_str()?.to_owned();
    Some(name)
}

#[tokio::main]
async fn main() -> ExitCode {
    let name = invoked_name().unwrap_or_default();
    let Some(provider_type) = provider_type_from_exe(&name) else {
        eprintln!(
            "terraform-provider-double: started as {name:?}; install it as \
             terraform-provider-<type>_v<version> so that <type> selects the schema to serve"
        );
        return ExitCode::FAILURE;
    };
    match serve(provider_type).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-double ({provider_type}): {e}");
            ExitCode::FAILURE
        }
    }
}
