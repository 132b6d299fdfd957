//! Certificates made for the TLS tests (`tests/tls.rs`, and the real cluster's in
//! `tests/e2e.rs`): openssl runs, and PEM files become kubeconfig `*-data` fields.

use std::path::Path;

use base64::Engine;

/// Whether openssl can be run here; the tests that need it skip without it.
pub fn available() -> bool {
    std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs openssl in `dir`; a failure fails the test with openssl's own words.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PEM file (from its first `-----BEGIN`) as a kubeconfig's base64 `*-data` value.
pub fn pem_data(path: &Path) -> String {
    let pem = std::fs::read_to_string(path).expect("a PEM file");
    let start = pem.find("-----BEGIN").expect("PEM");
    base64::engine::general_purpose::STANDARD.encode(&pem[start..])
}
