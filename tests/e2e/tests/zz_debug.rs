use e2e::faults::run::{Run, command};
use e2e::faults::front::Front;
use e2e::faults::calls::{distinct_calls, Refusal};
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dbg() {
    let env = e2e::Env::start("gateway-oom").await;
    let front = Front::start(&env.cluster).await;
    let kc = env.dir.path().join("fk");
    front.write_kubeconfig(&kc);
    let _ = Run::of(&mut command(&env, "kubectl-gw_status", &["gateway-proxy","-n","gateway","-o","json"], Some(&kc))).await;
    for c in distinct_calls(&front.requests(), Refusal::Forbidden) { eprintln!("{c:?}"); }
}
