//! Durability of `kubetwin serve --store redb` under SIGKILL: concurrent clients create
//! ConfigMaps through HTTP; the server is killed mid-stream; after a restart on the same data
//! directory every create that was acknowledged (201) is there, intact, with the same uid,
//! and no request that was in flight left a half-written object behind. Events stored before
//! a restart still expire (`--event-ttl`).

#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::http;
use support::{OwnedServer, ServeOptions};

/// Concurrent client threads.
const WRITERS: usize = 8;
/// The server is killed once this many creates were acknowledged.
const ACKS_BEFORE_KILL: usize = 300;
/// Upper bound on attempted creates, so a server that cannot be killed still ends the test.
const MAX_CREATES: usize = 50_000;

const PATH: &str = "/api/v1/namespaces/default/configmaps";

fn manifest(index: usize) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": format!("durable-{index:05}"), "labels": {"suite": "durability"}},
        "data": {"index": index.to_string(), "payload": "p".repeat(index % 200)}
    })
}

/// What a writer learned about one create.
#[derive(Debug, Clone)]
enum Outcome {
    /// 201 Created, with the uid the server assigned.
    Acknowledged { index: usize, uid: String },
    /// The connection failed before a full response: it may or may not have been written.
    InFlight { index: usize },
}

fn redb() -> ServeOptions {
    ServeOptions {
        store: "redb",
        kube_minor: 32,
        cluster: Some("none"),
        extra_args: &[],
    }
}

#[test]
fn acknowledged_creates_survive_sigkill() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut server = OwnedServer::start(data_dir.path(), &redb());
    let address = server.endpoint.address.clone();

    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (address, next, acked, killed, outcomes) = (
                address.clone(),
                next.clone(),
                acked.clone(),
                killed.clone(),
                outcomes.clone(),
            );
            std::thread::spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= MAX_CREATES {
                        return;
                    }
                    match http::post_json(&address, PATH, &manifest(index)) {
                        Ok(response) if response.status == 201 => {
                            let uid = response.json()["metadata"]["uid"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string();
                            assert!(!uid.is_empty(), "a created object has a uid");
                            outcomes
                                .lock()
                                .expect("outcomes")
                                .push(Outcome::Acknowledged { index, uid });
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(response) => panic!(
                            "create {index} answered {} before the kill: {}",
                            response.status,
                            response.text()
                        ),
                        Err(error) => {
                            assert!(
                                killed.load(Ordering::SeqCst),
                                "create {index} failed before the kill: {error:?}"
                            );
                            outcomes
                                .lock()
                                .expect("outcomes")
                                .push(Outcome::InFlight { index });
                            return;
                        }
                    }
                }
            })
        })
        .collect();

    while acked.load(Ordering::SeqCst) < ACKS_BEFORE_KILL
        && next.load(Ordering::SeqCst) < MAX_CREATES
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    killed.store(true, Ordering::SeqCst);
    server.kill();
    for writer in writers {
        writer.join().expect("writer thread");
    }
    let outcomes = outcomes.lock().expect("outcomes").clone();
    let acknowledged: Vec<(usize, String)> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Acknowledged { index, uid } => Some((*index, uid.clone())),
            Outcome::InFlight { .. } => None,
        })
        .collect();
    eprintln!(
        "{} creates acknowledged, {} cut off by the kill",
        acknowledged.len(),
        outcomes.len() - acknowledged.len()
    );
    assert!(acknowledged.len() >= ACKS_BEFORE_KILL);
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Outcome::InFlight { .. })),
        "the kill landed mid-stream: some create was in flight"
    );

    // The file itself, read with the store library before any server touches it again:
    // each acknowledged object is there with the uid the client was told.
    {
        let store = kubetwin_store::Store::open_redb(
            data_dir.path().join("store.redb"),
            kubetwin_store::RedbOptions::default(),
        )
        .expect("reopen the store file");
        let configmaps =
            kubetwin_apiserver::registry::lookup("", "v1", "configmaps").expect("configmaps");
        for (index, uid) in &acknowledged {
            let key = configmaps.key(Some("default"), &format!("durable-{index:05}"));
            let stored = store
                .get(&key)
                .expect("store read")
                .unwrap_or_else(|| panic!("acknowledged {key} missing from the store file"));
            let object: Value = serde_json::from_slice(&stored.value).expect("stored JSON");
            assert_eq!(object["metadata"]["uid"], uid.as_str(), "{key}");
        }
    }

    let restarted = OwnedServer::start(data_dir.path(), &redb());
    let address = restarted.endpoint.address.clone();
    for (index, uid) in &acknowledged {
        let name = format!("durable-{index:05}");
        let response = http::get(&address, &format!("{PATH}/{name}")).expect("get after restart");
        assert_eq!(
            response.status,
            200,
            "acknowledged {name} lost: {}",
            response.text()
        );
        let object = response.json();
        assert_eq!(
            object["metadata"]["uid"],
            uid.as_str(),
            "{name} changed uid"
        );
        assert_eq!(object["data"], manifest(*index)["data"], "{name} data");
    }
    for outcome in &outcomes {
        if let Outcome::InFlight { index } = outcome {
            let name = format!("durable-{index:05}");
            let response =
                http::get(&address, &format!("{PATH}/{name}")).expect("get after restart");
            match response.status {
                404 => {}
                200 => assert_eq!(response.json()["data"], manifest(*index)["data"]),
                other => panic!("in-flight {name}: {other} {}", response.text()),
            }
        }
    }

    // The whole collection reads back, and the server keeps accepting writes after recovery.
    let list = http::get(
        &address,
        &format!("{PATH}?labelSelector=suite%3Ddurability"),
    )
    .expect("list after restart");
    assert_eq!(list.status, 200, "{}", list.text());
    let items = list.json()["items"].as_array().map(Vec::len).unwrap_or(0);
    assert!(items >= acknowledged.len(), "{items} listed");
    let after = http::post_json(&address, PATH, &manifest(MAX_CREATES + 1)).expect("create");
    assert_eq!(after.status, 201, "{}", after.text());
    let namespaces = http::get(&address, "/api/v1/namespaces/kube-system").expect("get");
    assert_eq!(namespaces.status, 200, "bootstrap objects survive too");
}

#[test]
fn restart_keeps_objects_and_resource_versions() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (uid, rv) = {
        let server = OwnedServer::start(data_dir.path(), &redb());
        let created =
            http::post_json(&server.endpoint.address, PATH, &manifest(1)).expect("create");
        assert_eq!(created.status, 201, "{}", created.text());
        let object = created.json();
        (
            object["metadata"]["uid"].clone(),
            object["metadata"]["resourceVersion"].clone(),
        )
        // Dropping the server kills it.
    };
    let server = OwnedServer::start(data_dir.path(), &redb());
    let fetched =
        http::get(&server.endpoint.address, &format!("{PATH}/durable-00001")).expect("get");
    assert_eq!(fetched.status, 200, "{}", fetched.text());
    assert_eq!(fetched.json()["metadata"]["uid"], uid);
    assert_eq!(fetched.json()["metadata"]["resourceVersion"], rv);
    // Revisions keep growing after a restart (no reuse of resourceVersions).
    let created = http::post_json(&server.endpoint.address, PATH, &manifest(2)).expect("create");
    let new_rv: u64 = created.json()["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
        .expect("rv");
    let old_rv: u64 = rv.as_str().and_then(|rv| rv.parse().ok()).expect("rv");
    assert!(new_rv > old_rv);
}

/// Events written before a restart are put on a lease from the restart (their leases were in
/// memory) and expire one `--event-ttl` later, read through the real kubectl; other objects stay.
#[test]
fn events_stored_before_a_restart_expire_a_ttl_after_it() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let event = "apiVersion: v1\nkind: Event\nmetadata: {name: before-restart, namespace: default}\ninvolvedObject: {kind: Pod, name: p, namespace: default}\nreason: Test\nmessage: hello\ntype: Normal\n";
    let config_map =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stays, namespace: default}\n";
    {
        let server = OwnedServer::start(data_dir.path(), &redb());
        let kubectl = support::kubectl::Kubectl::new(server.endpoint.clone(), "default");
        kubectl.apply(event);
        kubectl.apply(config_map);
    }
    let options = ServeOptions {
        extra_args: &["--event-ttl", "8s"],
        ..redb()
    };
    let server = OwnedServer::start(data_dir.path(), &options);
    let kubectl = support::kubectl::Kubectl::new(server.endpoint.clone(), "default");
    assert!(
        kubectl.exists("event", "before-restart"),
        "kept over the restart, until its TTL"
    );
    let mut polls = 0;
    while kubectl.exists("event", "before-restart") {
        polls += 1;
        assert!(polls < 120, "the event did not expire");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(kubectl.exists("configmap", "stays"));
}
