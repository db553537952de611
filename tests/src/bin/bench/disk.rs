//! Bytes on disk per whistle, at a typical size and at the largest the limits allow: filed, and
//! after its whole life (dispatch, report for duty, resolve, close), each step writing the
//! record again and an event carrying it.

use anyhow::Context;

use shaozi_server::writer::{Command, Reply};
use shaozi_server::{start, RunningServer};
use shaozi_shared::api::{NewWhistle, Reporter};
use shaozi_shared::{text, CommunityId, Principal, Urgency, WhistleAction, WhistleId};

use crate::load::bulk;

/// A whistle as a community typically files it.
fn typical(i: usize, community: CommunityId) -> NewWhistle {
    NewWhistle {
        community_id: community,
        category: "roads".into(),
        title: format!("第{i}号：朝阳路井盖缺失"),
        description: "朝阳路与桃花路口东侧人行道井盖缺失，已有老人险些跌倒，请尽快处理。".into(),
        urgency: Urgency::Normal,
        address: Some("朝阳路12号旁".into()),
        lat: Some(28.5534),
        long: Some(112.3561),
        media_url: None,
        reporter: Some(Reporter {
            name: Some("王女士".into()),
            email: None,
            phone: Some("13800001234".into()),
        }),
        attributes: Default::default(),
        source: None,
    }
}

/// Every free-text field at its limit, in three-byte characters where text may be Chinese.
fn largest(i: usize, community: CommunityId) -> NewWhistle {
    let zh = |n: usize| "井".repeat(n);
    let mut title = format!("{i}");
    title.push_str(&zh(text::TITLE.max - title.len()));
    NewWhistle {
        community_id: community,
        category: "roads".into(),
        title,
        description: zh(text::DESCRIPTION.max),
        urgency: Urgency::Normal,
        address: Some(zh(text::ADDRESS.max)),
        lat: Some(28.5534),
        long: Some(112.3561),
        media_url: Some(format!(
            "https://example.cn/{}",
            "p".repeat(text::URL.max - 19)
        )),
        reporter: Some(Reporter {
            name: Some(zh(text::PERSON.max)),
            email: Some(format!("{}@example.cn", "a".repeat(text::EMAIL.max - 11))),
            phone: Some("1".repeat(text::PHONE.max)),
        }),
        attributes: Default::default(),
        source: None,
    }
}

fn steps(largest: bool, department: shaozi_shared::DepartmentId) -> Vec<WhistleAction> {
    let zh = |n: usize| "修".repeat(n);
    let (note, reply) = if largest {
        (Some(zh(text::NOTE.max)), zh(text::REPLY.max))
    } else {
        (None, "井盖已更换，现场已清理。".to_string())
    };
    let staff = if largest {
        (0..text::MAX_STAFF)
            .map(|k| format!("{k}{}", zh(text::PERSON.max - 2)))
            .collect()
    } else {
        vec!["张伟".into(), "李娜".into()]
    };
    vec![
        WhistleAction::Dispatch {
            department_id: department,
            assisting: vec![],
            note: note.clone(),
            report: None,
        },
        WhistleAction::Acknowledge {
            staff,
            note: note.clone(),
        },
        WhistleAction::Resolve { reply, note: None },
        WhistleAction::Close {
            satisfaction: 5,
            note,
        },
    ]
}

async fn city(
    server: &RunningServer,
) -> anyhow::Result<(CommunityId, shaozi_shared::DepartmentId)> {
    use shaozi_shared::api::{NewCommunity, NewDepartment, NewStreet};
    let make = |cmd| async {
        server
            .writer
            .submit(cmd, Principal::system())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    };
    let Reply::Street(street) = make(Command::CreateStreet(NewStreet {
        name: "桃花仑街道".into(),
    }))
    .await?
    else {
        anyhow::bail!("no street");
    };
    let Reply::Community(community) = make(Command::CreateCommunity(NewCommunity {
        name: "朝阳路社区".into(),
        street_id: street.id,
    }))
    .await?
    else {
        anyhow::bail!("no community");
    };
    let Reply::Department(department) = make(Command::CreateDepartment(NewDepartment {
        name: "市城管局".into(),
        categories: vec!["roads".into()],
    }))
    .await?
    else {
        anyhow::bail!("no department");
    };
    Ok((community.id, department.id))
}

/// The store's files, in bytes, as `du` would count them (after the server stopped).
fn bytes_in(dir: &std::path::Path) -> anyhow::Result<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let e = e?;
        let meta = e.metadata()?;
        n += if meta.is_dir() {
            bytes_in(&e.path())?
        } else {
            meta.len()
        };
    }
    Ok(n)
}

/// Prints the bytes per whistle for `n` whistles of each size.
pub async fn run(n: usize, in_flight: usize) -> anyhow::Result<()> {
    println!("== bytes on disk per whistle ({n} of each size, sled, after a clean stop)");
    for (label, big) in [("typical", false), ("largest allowed", true)] {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("store");
        let server = start(crate::config(&data)?).await?;
        let (community, department) = city(&server).await?;
        let writer = server.writer.clone();
        server.shutdown().await;
        drop(writer);
        let empty = bytes_in(&data)?;

        let server = start(crate::config(&data)?).await?;
        let first = crate::last_whistle(&server)? + 1;
        bulk(&server.writer, n, in_flight, |i| {
            Command::FileWhistle(if big {
                largest(i, community)
            } else {
                typical(i, community)
            })
        })
        .await?;
        server.shutdown().await;
        let filed = bytes_in(&data)?;

        let server = start(crate::config(&data)?).await?;
        for step in steps(big, department) {
            bulk(&server.writer, n, in_flight, |i| {
                Command::Whistle(WhistleId(first + i as u64), step.clone(), None)
            })
            .await?;
        }
        server.shutdown().await;
        let lived = bytes_in(&data)?;
        let sample = if big {
            largest(0, community)
        } else {
            typical(0, community)
        };
        println!(
            "  {label}: description {} chars; filed {:.1} KB per whistle; after dispatch, report for duty, resolve and close {:.1} KB per whistle (store {:.1} MiB → {:.1} MiB → {:.1} MiB)",
            sample.description.chars().count(),
            (filed - empty) as f64 / n as f64 / 1000.0,
            (lived - empty) as f64 / n as f64 / 1000.0,
            empty as f64 / 1048576.0,
            filed as f64 / 1048576.0,
            lived as f64 / 1048576.0,
        );
    }
    Ok(())
}
