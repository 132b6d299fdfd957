//! Connection failures in plain words, made real: an `openssl s_server` presenting
//! certificates this test generates (expired; valid but for another name), and a credential
//! plugin that fails. kubelab's real kube-rs client meets each; the message must say what is
//! wrong and what to do, without library jargon. Skips with one line when openssl is absent.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::certs::openssl;
use common::{kubelab_env, root};

/// A self-signed server certificate for 127.0.0.1, valid only between the two dates.
fn server_cert(dir: &Path, name: &str, dates: (&str, &str)) {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let crt = format!("{name}.crt");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ],
    );
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\nunique_subject = no\n[p]\ncommonName = supplied\n",
    )
    .unwrap();
    let (start, end) = dates;
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            &key,
            "-in",
            &csr,
            "-out",
            &crt,
            "-startdate",
            start,
            "-enddate",
            end,
        ],
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path, name: &str) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .current_dir(dir)
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            &format!("{name}.crt"),
            "-key",
            &format!("{name}.key"),
            "-www",
            "-quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (Server(child), port)
}

fn kubeconfig(dir: &Path, name: &str, server: &str, cluster_extra: &str, user: &str) -> String {
    let path = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(
        &path,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{cluster_extra}contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n{user}"),
    )
    .unwrap();
    path.display().to_string()
}

fn ca_data(dir: &Path, name: &str) -> String {
    common::certs::pem_data(&dir.join(format!("{name}.crt")))
}

fn check(kc: &str) -> common::Run {
    kubelab_env(
        &root(),
        &[
            "check",
            "slow-sequential",
            "--kubeconfig",
            kc,
            "-n",
            "default",
        ],
        None,
        &[],
    )
}

fn says(r: &common::Run, what: &str) {
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(what), "expected `{what}`:\n{}", r.stderr);
    assert!(r.stderr.contains("help:"), "says what to do:\n{}", r.stderr);
    for jargon in [
        "OtherError",
        "ServiceError",
        "ExitStatus(",
        "unix_wait_status",
    ] {
        assert!(
            !r.stderr.contains(jargon),
            "no library jargon ({jargon}):\n{}",
            r.stderr
        );
    }
}

#[test]
fn certificates_and_credential_plugins_that_fail() {
    if !common::certs::available() {
        eprintln!("skipped: openssl is not installed, so no certificates can be made");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    server_cert(d, "expired", ("20200101000000Z", "20200102000000Z"));
    let (_expired, port) = serve(d, "expired");
    let ca = format!(
        "    certificate-authority-data: {}\n",
        ca_data(d, "expired")
    );
    let token = "    token: t\n";
    let kc = kubeconfig(
        d,
        "expired",
        &format!("https://127.0.0.1:{port}"),
        &ca,
        token,
    );
    says(&check(&kc), "a certificate has expired");

    // A CA and a server certificate it signs for 127.0.0.1, reached under another name.
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=test-ca",
            "-days",
            "1",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "valid.key",
            "-out",
            "valid.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        d.join("valid.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "valid.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "valid.ext",
            "-out",
            "valid.crt",
        ],
    );
    let (_valid, port) = serve(d, "valid");
    let ca = format!(
        "    certificate-authority-data: {}\n    tls-server-name: kubernetes.example\n",
        ca_data(d, "ca")
    );
    let kc = kubeconfig(d, "name", &format!("https://127.0.0.1:{port}"), &ca, token);
    let r = check(&kc);
    says(&r, "certificate is not issued for the address");

    let exec = "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /bin/false\n      interactiveMode: Never\n";
    let kc = kubeconfig(d, "exec", &format!("https://127.0.0.1:{port}"), "", exec);
    says(
        &check(&kc),
        "the credential plugin your kubeconfig runs (users[].user.exec) failed",
    );
}
