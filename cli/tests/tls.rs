//! The PostgreSQL store over TLS, against the throwaway cluster of
//! scripts/test-postgres.sh: it serves a certificate for `db.keyproof.test`
//! signed by its own CA, and refuses plain-text sessions of the role in
//! `KEYPROOF_TEST_POSTGRES_TLS_DSN` (`hostnossl … reject`), so a command that
//! works as that role went over TLS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

mod tls {
    use super::common::Env;

    /// Runs `keyproof --store <url> <args>`: its exit code and what it printed.
    fn run(env: &Env, url: &str, args: &[&str]) -> (i32, String) {
        let out = env.cmd().args(["--store", url]).args(args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    #[test]
    fn postgresql() {
        let (Ok(dsn), Ok(ca), Ok(other_ca)) = (
            std::env::var("KEYPROOF_TEST_POSTGRES_TLS_DSN"),
            std::env::var("KEYPROOF_TEST_POSTGRES_TLS_CA"),
            std::env::var("KEYPROOF_TEST_POSTGRES_TLS_OTHER_CA"),
        ) else {
            eprintln!("not run: KEYPROOF_TEST_POSTGRES_TLS_* are not set (scripts/test-postgres.sh sets them)");
            return;
        };
        let env = Env::new();
        let (code, out) =
            run(&env, &format!("{dsn}?sslmode=require"), &["mint", "--format", "keyproof_live", "--name", "Over TLS"]);
        assert_eq!(code, 0, "require: {out}");
        let accepted = [
            format!("{dsn}?sslmode=require"),
            dsn.clone(), // prefer, libpq's default: TLS when offered
            format!("{dsn}?sslmode=verify-ca&sslrootcert={ca}"),
            format!("{dsn}?sslmode=require&sslrootcert={ca}"),
            // The certificate names db.keyproof.test: connect there, at the loopback address.
            format!(
                "{}?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}",
                dsn.replace("127.0.0.1", "db.keyproof.test")
            ),
        ];
        for url in &accepted {
            let (code, out) = run(&env, url, &["--json", "list"]);
            assert_eq!(code, 0, "{url}: {out}");
            assert!(out.contains("Over TLS"), "{url}: {out}");
        }
        let refused = [
            (format!("{dsn}?sslmode=disable"), "no encryption"),
            (format!("{dsn}?sslmode=verify-full&sslrootcert={ca}"), "certificate"),
            (format!("{dsn}?sslmode=verify-ca&sslrootcert={other_ca}"), "certificate"),
            (format!("{dsn}?sslmode=require&sslrootcert={other_ca}"), "certificate"),
        ];
        for (url, says) in &refused {
            let (code, out) = run(&env, url, &["list"]);
            assert_eq!(code, 3, "{url}: {out}");
            assert!(out.starts_with("error: store_error:") && out.contains(says), "{url}: {out}");
        }
    }
}
