use e2e::faults::run::{Run, command};
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dbg() {
    let env = e2e::Env::start("gateway-oom").await;
    env.cluster.rbac().forbid(testcluster::rbac::ForbidRule{verb:"list".into(),resource:"nodes".into(),subresource:None,group:Some("".into()),namespace:None});
    let run = Run::of(&mut command(&env, "kubectl-gw_status", &["gateway-proxy","-n","gateway","-o","json", "-v"], None)).await;
    eprintln!("{}", run.explain());
}
