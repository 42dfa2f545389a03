//! Hostile and broken inputs, one case per failure class: what meshlint prints for each must be
//! a clear error or the right result, never raw control characters, leaked credentials, a hang
//! or a panic.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_meshlint");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn meshlint(args: &[&str], dir: &Path) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("meshlint runs");
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A Service whose name carries a terminal escape and a newline that would forge a line.
const INJECTED: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: \"x\\e[31mred\\nfake.yaml:1:1: error[MESH999] injected\"\nspec:\n  ports: [{name: web, port: 80}]\n";

#[test]
fn control_characters_are_escaped_in_every_text_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("svc.yaml"), INJECTED).expect("write");
    for format in ["human", "concise", "github"] {
        let run = meshlint(
            &["check", "--format", format, "--color", "never", "svc.yaml"],
            dir.path(),
        );
        assert_eq!(run.code, 1, "{format}: {}{}", run.stdout, run.stderr);
        assert!(
            !run.stdout.contains('\u{1b}'),
            "{format} prints a raw escape:\n{}",
            run.stdout
        );
        assert!(
            !run.stdout.lines().any(|l| l.starts_with("fake.yaml")),
            "{format} lets a name forge a line:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("\\u{1b}[31m"),
            "{format}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn admin_credentials_are_refused_and_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = meshlint(
        &[
            "listeners",
            "--admin",
            "http://admin:s3cret@127.0.0.1:9",
            "--admin-timeout",
            "1",
        ],
        dir.path(),
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains("s3cret") && !all.contains("admin:"), "{all}");
    assert!(all.contains("credentials"), "{all}");
}

#[test]
fn config_mistakes_are_named_with_position_and_a_close_match() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("svc.yaml"), INJECTED).expect("write");
    std::fs::write(
        dir.path().join(".meshlint.yaml"),
        "ignore:\n  - rule: MESH101\n    resourse: \"Service default/*\"\n",
    )
    .expect("write");
    let run = meshlint(&["check", "svc.yaml"], dir.path());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(".meshlint.yaml:3:5: invalid config: unknown key `resourse`")
            && run.stderr.contains("did you mean `resource`?"),
        "{}",
        run.stderr
    );
    std::fs::write(dir.path().join(".meshlint.yaml"), "exclude: [\"a[b\"]\n").expect("write");
    let run = meshlint(&["check", "svc.yaml"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(".meshlint.yaml:1:11: invalid glob `a[b` in `exclude`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_config_above_the_repository_is_not_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(".meshlint.yaml"), "ignore: [ALL]\n").expect("write");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
    std::fs::write(repo.join("svc.yaml"), INJECTED).expect("write");
    let run = meshlint(&["check", "--format", "json", "svc.yaml"], &repo);
    assert_eq!(
        run.code, 1,
        "the planted config silenced the run: {}",
        run.stdout
    );
    assert!(!run.stdout.contains("\"config\""), "{}", run.stdout);
    std::fs::write(repo.join(".meshlint.yaml"), "select: [MESH101]\n").expect("write");
    let run = meshlint(&["check", "--format", "json", "svc.yaml"], &repo);
    assert!(
        run.stdout.contains("\"config\": \".meshlint.yaml\""),
        "{}",
        run.stdout
    );
}

/// Files a walk meets that are neither objects nor dumps, each with something a loose test
/// would take for an Envoy resource (`name`, `address`, `type`, `configs`).
const NOT_DUMPS: &[(&str, &str)] = &[
    (
        "playbook.yaml",
        "- hosts: all\n  become: true\n  tasks:\n    - name: install nginx\n      apt: {name: nginx}\n",
    ),
    (
        "tasks.yaml",
        "- name: install nginx\n  apt: {name: nginx, state: present}\n- name: start\n  service: {name: nginx}\n",
    ),
    (
        ".pre-commit-hooks.yaml",
        "- id: meshlint\n  name: meshlint\n  entry: meshlint check\n  language: rust\n",
    ),
    (
        "patch.yaml",
        "- op: replace\n  path: /spec/type\n  value: NodePort\n",
    ),
    (
        "hosts.json",
        "[{\"name\": \"web\", \"address\": \"10.0.0.1\", \"type\": \"server\"}]",
    ),
    ("numbers.json", "[1, 2, \"x\"]"),
    (
        "values.yaml",
        "replicaCount: 1\nconfigs:\n  cm: {create: true}\n",
    ),
];

#[test]
fn walked_files_that_are_neither_objects_nor_dumps_are_skipped_silently() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in NOT_DUMPS {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    std::fs::write(
        dir.path().join("svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\nspec: {ports: [{name: web, port: 80}]}\n",
    )
    .expect("write");
    // `istioctl proxy-config listener -o yaml`: still a dump.
    std::fs::write(
        dir.path().join("listeners.yaml"),
        "- name: 10.0.0.9_5701\n  address: {socket_address: {address: 10.0.0.9, port_value: 5701}}\n  filter_chains:\n  - filters:\n    - name: envoy.filters.network.tcp_proxy\n      typed_config: {cluster: outbound|5701||hz.app.svc.cluster.local}\n",
    )
    .expect("write");
    let run = meshlint(&["check", "--format", "concise", "."], dir.path());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("svc.yaml:4:"), "{}", run.stdout);
    assert!(
        run.stderr.is_empty() && run.stdout.contains(" 0 input errors"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let run = meshlint(&["listeners", "listeners.yaml"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("10.0.0.9"), "{}", run.stdout);
    // Named, they are skipped with a note; none is read as a dump.
    for (name, _) in NOT_DUMPS {
        let run = meshlint(&["listeners", name], dir.path());
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            !run.stdout.contains("config dump"),
            "{name}: {}",
            run.stdout
        );
        let run = meshlint(&["check", name], dir.path());
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("note:"), "{name}: {}", run.stderr);
    }
}

/// Counts the bytes the measuring thread holds on the heap, and their peak: other tests run
/// beside it and are not counted.
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
        static NOW: Cell<usize> = const { Cell::new(0) };
        static PEAK: Cell<usize> = const { Cell::new(0) };
    }

    pub struct Counting;

    fn count(add: usize, sub: usize) {
        // `try_with`: the allocator also runs while thread-locals are torn down.
        let _ = ON.try_with(|on| {
            if on.get() {
                let now = NOW.get().saturating_add(add).saturating_sub(sub);
                NOW.set(now);
                PEAK.set(PEAK.get().max(now));
            }
        });
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count(layout.size(), 0);
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            count(0, layout.size());
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
            count(new, layout.size());
            unsafe { System.realloc(ptr, layout, new) }
        }
    }

    /// The peak of heap bytes `f` held at once, above what was held before.
    pub fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
        NOW.set(0);
        PEAK.set(0);
        ON.set(true);
        let out = f();
        ON.set(false);
        (out, PEAK.get())
    }
}

#[global_allocator]
static HEAP: heap::Counting = heap::Counting;

/// `n` small listeners, minified, as `/config_dump`, a bare array, and `?resource=` entries.
fn many_listeners(n: usize) -> [String; 3] {
    let listener = |i: usize| {
        let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
        format!(
            r#"{{"@type":"type.googleapis.com/envoy.config.listener.v3.Listener","name":"{ip}_8080","address":{{"socket_address":{{"address":"{ip}","port_value":8080}}}},"filter_chains":[{{"filters":[{{"name":"envoy.filters.network.tcp_proxy","typed_config":{{"@type":"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy","stat_prefix":"outbound|8080||s{i}.ns.svc.cluster.local","cluster":"outbound|8080||s{i}.ns.svc.cluster.local"}}}}]}}],"traffic_direction":"OUTBOUND","bind_to_port":false}}"#
        )
    };
    let dynamic = |i: usize| {
        format!(
            r#"{{"name":"l{i}","active_state":{{"version_info":"1","listener":{},"last_updated":"2024-01-01T00:00:00Z"}}}}"#,
            listener(i)
        )
    };
    let join = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(",");
    [
        format!(
            r#"{{"configs":[{{"@type":"type.googleapis.com/envoy.admin.v3.ListenersConfigDump","dynamic_listeners":[{}]}}]}}"#,
            join(&dynamic)
        ),
        format!("[{}]", join(&listener)),
        format!(
            r#"{{"configs":[{}]}}"#,
            join(&|i| {
                dynamic(i).replacen(
                '{',
                r#"{"@type":"type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener","#,
                1
            )
            })
        ),
    ]
}

#[test]
fn a_dump_of_many_small_listeners_takes_a_few_times_its_size_in_memory() {
    for text in many_listeners(4000) {
        let (dump, peak) = heap::peak(|| meshlint::envoy::load::parse_json(&text));
        let dump = dump.expect("a dump");
        assert_eq!(dump.listeners.len(), 4000);
        // With the text itself, reading takes under 5 times the dump's size (it took 19).
        assert!(
            peak < 4 * text.len(),
            "{} bytes of dump took {peak} bytes of model ({}: {:.1}x)",
            text.len(),
            dump.shape,
            peak as f64 / text.len() as f64
        );
    }
}
