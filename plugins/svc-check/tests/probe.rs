//! `--probe` against a fake kubelet speaking the port-forward websocket protocol
//! (`v4.channel.k8s.io`: channel 0 carries data, channel 1 errors; each opens with the port
//! number): the kubelet's refusal, a banner from the app, silence, and an API server that
//! will not upgrade map to refused, connected, connected and not probed.

use std::time::Duration;

use futures::SinkExt;
use kube::Client;
use kubectl_svc_check::probe::{Verdict, probe};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

/// What the fake kubelet does once the tunnel is open.
#[derive(Clone, Copy)]
enum Kubelet {
    /// Writes the dial error on the error channel and closes.
    Refuse,
    /// Sends a banner on the data channel.
    Banner,
    /// Says nothing and keeps the tunnel open.
    Silent,
    /// Answers the upgrade with 403.
    Forbid,
}

fn frame(channel: u8, body: &[u8]) -> Message {
    let mut bytes = vec![channel];
    bytes.extend_from_slice(body);
    Message::binary(bytes)
}

/// Serves one port-forward connection as `kubelet`; returns the kube client for it.
async fn fake(kubelet: Kubelet) -> Client {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        // The signature is tungstenite's `Callback`: its error response is what it is.
        #[allow(clippy::result_large_err)]
        let callback = move |req: &Request,
                             mut resp: Response|
              -> Result<Response, ErrorResponse> {
            assert!(
                req.uri().path().ends_with("/pods/web-1/portforward"),
                "{}",
                req.uri()
            );
            assert!(req.uri().query().unwrap_or_default().contains("ports=8080"));
            if matches!(kubelet, Kubelet::Forbid) {
                let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"web-1\" is forbidden: cannot create pods/portforward","reason":"Forbidden","code":403}"#;
                return Err(http::Response::builder()
                    .status(403)
                    .body(Some(body.to_string()))
                    .unwrap());
            }
            resp.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                "v4.channel.k8s.io".parse().unwrap(),
            );
            Ok(resp)
        };
        let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
            return;
        };
        let port = 8080u16.to_le_bytes();
        ws.send(frame(0, &port)).await.unwrap();
        ws.send(frame(1, &port)).await.unwrap();
        match kubelet {
            Kubelet::Refuse => {
                let msg = "error forwarding port 8080 to pod 1f2e, uid : failed to execute portforward in network namespace: failed to connect to localhost:8080 inside namespace \"1f2e\", IPv4: dial tcp4 127.0.0.1:8080: connect: connection refused ";
                ws.send(frame(1, msg.as_bytes())).await.unwrap();
                let _ = ws.close(None).await;
            }
            Kubelet::Banner => {
                ws.send(frame(0, b"SSH-2.0-OpenSSH_9.6\r\n")).await.unwrap();
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Kubelet::Silent => tokio::time::sleep(Duration::from_secs(5)).await,
            Kubelet::Forbid => {}
        }
    });
    Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap()
}

async fn verdict(kubelet: Kubelet) -> Verdict {
    let client = fake(kubelet).await;
    probe(&client, "shop", "web-1", 8080, Duration::from_millis(500)).await
}

#[tokio::test]
async fn a_refused_dial_is_refused() {
    let v = verdict(Kubelet::Refuse).await;
    assert_eq!(v.label(), "refused", "{v:?}");
    assert!(v.detail().contains("connect: connection refused"), "{v:?}");
}

#[tokio::test]
async fn bytes_from_the_app_mean_connected() {
    let v = verdict(Kubelet::Banner).await;
    assert_eq!(
        v,
        Verdict::Connected("connected; the app sent 21 byte(s) first".into())
    );
}

#[tokio::test]
async fn silence_until_the_timeout_means_connected() {
    let v = verdict(Kubelet::Silent).await;
    assert_eq!(v.label(), "connected", "{v:?}");
    assert!(v.detail().contains("no error from the kubelet"), "{v:?}");
}

#[tokio::test]
async fn a_refused_upgrade_is_not_a_verdict() {
    let v = verdict(Kubelet::Forbid).await;
    assert_eq!(v.label(), "not probed", "{v:?}");
    assert!(v.detail().contains("403"), "{v:?}");
}
