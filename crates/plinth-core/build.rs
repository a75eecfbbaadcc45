//! Rebuilds when an embedded file is added or removed: `include_dir!` alone only notices
//! changes to files it already embedded.
fn main() {
    for dir in ["src/provider", "src/service/terraform", "scaffolds"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
