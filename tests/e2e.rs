//! Against a real cluster, opt-in: set KUBELAB_E2E_KUBECONFIG to the kubeconfig of a disposable
//! cluster (minikube, kind, k3s) and optionally KUBELAB_E2E_NAMESPACE (default `default`).
//! Without it the test says so and passes: there is no cluster on CI machines.

mod common;

use common::{kubelab_env, root};

#[test]
fn run_check_and_clean_on_a_real_cluster() {
    let Some(kubeconfig) = std::env::var_os("KUBELAB_E2E_KUBECONFIG") else {
        eprintln!("skipped: set KUBELAB_E2E_KUBECONFIG to run against a real cluster");
        return;
    };
    let kc = kubeconfig.to_string_lossy().into_owned();
    let ns = std::env::var("KUBELAB_E2E_NAMESPACE").unwrap_or_else(|_| "default".into());
    let with = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--kubeconfig", &kc, "-n", &ns]);
        kubelab_env(&root(), &all, None, &[])
    };
    let run = with(&[
        "run",
        "slow-sequential",
        "--reference",
        "--predict",
        "60s",
        "--timeout",
        "5m",
        "--replace",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Your predictions"));
    let check = with(&["check", "slow-sequential"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let clean = with(&["clean", "slow-sequential"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert!(clean.stdout.contains("deleted"), "{}", clean.stdout);
}
