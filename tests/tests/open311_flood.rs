//! Open311's public searches from 64 connections at once, on a store of large whistles, must
//! not take the server's memory with them (issue 12: 275 MB grew to a 1.63 GB peak). Alone in
//! its test binary, so the process's peak memory is this flood's.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures_util::StreamExt;
use shaozi_server::writer::Command;
use shaozi_shared::api::NewWhistle;
use shaozi_shared::{text, Principal, Urgency};
use shaozi_tests::TestServer;

/// The process's resident memory now and at its peak since the last reset, in MiB.
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_the_largest_pages_keeps_memory_bounded() {
    if !std::path::Path::new("/proc/self/clear_refs").exists() {
        eprintln!("no /proc/self/clear_refs here: the peak cannot be measured; skipped");
        return;
    }
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let writer = s.server.as_ref().expect("running").writer.clone();
    let community = city.communities[0].parse().expect("id");
    // 2,000 whistles with the longest description allowed, in three-byte characters.
    let filings = futures_util::stream::iter(0..2000)
        .map(|i| {
            let w = writer.clone();
            async move {
                w.submit(
                    Command::FileWhistle(NewWhistle {
                        community_id: community,
                        category: ["roads", "lighting"][i % 2].into(),
                        title: format!("第{i}号"),
                        description: "井".repeat(text::DESCRIPTION.max),
                        urgency: Urgency::Normal,
                        address: Some("朝阳路".repeat(20)),
                        lat: None,
                        long: None,
                        media_url: None,
                        reporter: None,
                        attributes: Default::default(),
                        source: None,
                    }),
                    Principal::system(),
                )
                .await
                .is_ok()
            }
        })
        .buffer_unordered(512)
        .collect::<Vec<bool>>()
        .await;
    assert!(filings.iter().all(|ok| *ok));

    // Start the peak afresh, so it is the flood's.
    let (before, _) = rss();
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak");
    let pages = [
        "page_size=1000",
        "page_size=1000&status=open",
        "page_size=200",
        "page_size=200&service_code=roads",
        "page_size=200&page=5",
    ];
    let mut flood = Vec::new();
    for c in 0..64 {
        let (client, base) = (s.client.clone(), s.base.clone());
        flood.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for r in 0..5 {
                let q = pages[(c + r) % pages.len()];
                let res = client
                    .get(format!("{base}/open311/v2/requests.xml?{q}"))
                    .send()
                    .await
                    .expect("request");
                statuses.push(res.status().as_u16());
                let _ = res.bytes().await;
            }
            statuses
        }));
    }
    // The dashboard's own reads go on meanwhile.
    for _ in 0..10 {
        assert_eq!(
            s.get("/api/v1/whistles?status=new,dispatched&limit=50")
                .await
                .status,
            200
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut served = 0;
    for f in flood {
        for status in f.await.expect("client") {
            assert!(matches!(status, 200 | 400 | 503), "a searcher got {status}");
            served += usize::from(status == 200);
        }
    }
    let (_, peak) = rss();
    eprintln!(
        "resident {before:.0} MiB before the flood, peak {peak:.0} MiB during it; {served} of 320 pages served"
    );
    assert!(served > 0, "the largest allowed pages are still served");
    assert!(
        peak - before < 300.0,
        "the flood took the peak from {before:.0} MiB to {peak:.0} MiB"
    );
}
