//! `double_binary()` as another crate's tests use it.

#[test]
fn finds_or_builds_the_double() {
    let start = std::time::Instant::now();
    let path = tf_double::double_binary().expect("the double binary");
    eprintln!("{} in {:?}", path.display(), start.elapsed());
    assert!(path.is_file(), "{}", path.display());
    assert_eq!(
        path.file_name().and_then(|n| n.to_str()),
        Some(tf_double::BINARY_NAME)
    );
}
