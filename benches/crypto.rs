//! `make bench` (crypto part): P-256 sign/verify rates for the `p256` crate and aws-lc, the
//! SHA-256 rate, and whole-process `cosign sign-blob` / `verify-blob` wall time.
//!
//! Figures are printed, not asserted: speed targets are read by people, tests stay
//! deterministic. The whole-process part runs the release binary (`SIGBOX_BIN`, default the
//! static build `make release` makes).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{self as rs, KeyPair as _};
use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use sha2::Digest as _;

fn rate(label: &str, min_time: Duration, mut op: impl FnMut()) -> f64 {
    // Warm up, then run for at least `min_time`.
    for _ in 0..10 {
        op();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < min_time {
        for _ in 0..50 {
            op();
        }
        n += 50;
    }
    let per_sec = n as f64 / start.elapsed().as_secs_f64();
    println!("{label:<48} {per_sec:>12.0} /s   ({:.1} µs each)", 1e6 / per_sec);
    per_sec
}

fn main() {
    let t = Duration::from_millis(1500);
    let msg = b"sigbox benchmark message: a hashedrekord digest stands here".to_vec();
    let digest = sha2::Sha256::digest(&msg);

    println!("== P-256 ECDSA (1 core) ==");
    let sk = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let vk = *sk.verifying_key();
    let sig: p256::ecdsa::Signature = sk.sign(&msg);
    let sig_der = sig.to_der();
    rate("p256 sign (message)", t, || {
        let s: p256::ecdsa::Signature = sk.sign(black_box(&msg));
        black_box(s);
    });
    rate("p256 sign (prehashed)", t, || {
        let s: p256::ecdsa::Signature = sk.sign_prehash(black_box(&digest)).expect("signs");
        black_box(s);
    });
    let p256_verify = rate("p256 verify (message)", t, || {
        vk.verify(black_box(&msg), &sig).expect("verifies");
    });
    rate("p256 verify (prehashed)", t, || {
        vk.verify_prehash(black_box(&digest), &sig).expect("verifies");
    });

    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 =
        rs::EcdsaKeyPair::generate_pkcs8(&rs::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("gen");
    let kp = rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
        .expect("key");
    let lc_sig = kp.sign(&rng, &msg).expect("signs");
    let lc_pub = rs::UnparsedPublicKey::new(&rs::ECDSA_P256_SHA256_ASN1, kp.public_key().as_ref());
    let lc_digest =
        aws_lc_rs::digest::Digest::import_less_safe(&digest, &aws_lc_rs::digest::SHA256)
            .expect("32 bytes");
    rate("aws-lc sign (message)", t, || {
        black_box(kp.sign(&rng, black_box(&msg)).expect("signs"));
    });
    rate("aws-lc sign (prehashed)", t, || {
        black_box(kp.sign_digest(black_box(&lc_digest)).expect("signs"));
    });
    let lc_verify = rate("aws-lc verify (message)", t, || {
        lc_pub.verify(black_box(&msg), lc_sig.as_ref()).expect("verifies");
    });
    rate("aws-lc verify (prehashed)", t, || {
        lc_pub.verify_digest(black_box(&lc_digest), lc_sig.as_ref()).expect("verifies");
    });
    println!("P-256 verify: aws-lc is {:.2}x p256", lc_verify / p256_verify);

    // The path sigbox actually uses.
    let signer = sigbox::crypto::EcdsaP256Signer::generate();
    use sigbox::crypto::Signer as _;
    let s = signer.sign(&msg).expect("signs");
    let public = signer.public_key().clone();
    rate("sigbox PublicKey::verify", t, || {
        public.verify(sigbox::crypto::SignatureScheme::EcdsaSha256, &msg, &s).expect("ok");
    });
    let s = signer.sign_prehashed(&digest).expect("signs");
    rate("sigbox PublicKey::verify_prehashed", t, || {
        public
            .verify_prehashed(sigbox::crypto::SignatureScheme::EcdsaSha256, &digest, &s)
            .expect("ok");
    });
    let _ = sig_der;

    println!("\n== P-384 ECDSA verify (1 core; public-good CA chains are P-384) ==");
    let sk384 = p384::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let vk384 = *sk384.verifying_key();
    let sig384: p384::ecdsa::Signature = sk384.sign(&msg);
    let p384_rate = rate("p384 verify (message)", t, || {
        vk384.verify(black_box(&msg), &sig384).expect("verifies");
    });
    let point = vk384.to_encoded_point(false);
    let lc384 = rs::UnparsedPublicKey::new(&rs::ECDSA_P384_SHA384_ASN1, point.as_bytes().to_vec());
    let der384 = sig384.to_der();
    let lc384_rate = rate("aws-lc verify P-384 (message)", t, || {
        lc384.verify(black_box(&msg), der384.as_bytes()).expect("verifies");
    });
    println!("P-384 verify: aws-lc is {:.2}x p384", lc384_rate / p384_rate);

    println!("\n== SHA-256 (1 core) ==");
    let data = vec![0x5au8; 64 << 20];
    for (label, f) in [
        (
            "sha2 crate",
            Box::new(|d: &[u8]| sha2::Sha256::digest(d).to_vec()) as Box<dyn Fn(&[u8]) -> Vec<u8>>,
        ),
        (
            "aws-lc digest",
            Box::new(|d: &[u8]| {
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, d).as_ref().to_vec()
            }),
        ),
    ] {
        let start = Instant::now();
        let rounds = 4;
        for _ in 0..rounds {
            black_box(f(black_box(&data)));
        }
        let mb = (data.len() * rounds) as f64 / 1e6;
        println!("{label:<48} {:>12.0} MB/s", mb / start.elapsed().as_secs_f64());
    }

    whole_process();
}

fn whole_process() {
    let bin = std::env::var_os("SIGBOX_BIN").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target/x86_64-unknown-linux-gnu/release/sigbox")
    });
    println!("\n== whole process ({}) ==", bin.display());
    if !bin.exists() {
        println!("release binary missing: run `make release` first");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        let out = Command::new(&bin)
            .args(args)
            .current_dir(dir.path())
            .env("COSIGN_PASSWORD", "bench")
            .output()
            .expect("runs");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["cosign", "generate-key-pair", "-y"]);
    std::fs::write(dir.path().join("artifact.bin"), vec![7u8; 1 << 20]).expect("artifact");
    let time = |label: &str, args: &[&str]| {
        let mut samples = Vec::new();
        for _ in 0..20 {
            let start = Instant::now();
            run(args);
            samples.push(start.elapsed().as_secs_f64() * 1e3);
        }
        samples.sort_by(f64::total_cmp);
        println!(
            "{label:<48} median {:>7.2} ms   min {:>7.2} ms",
            samples[samples.len() / 2],
            samples[0]
        );
    };
    time(
        "cosign sign-blob --key (1 MiB, scrypt N=2^15)",
        &[
            "cosign",
            "sign-blob",
            "--key",
            "cosign.key",
            "--bundle",
            "b.json",
            "--tlog-upload=false",
            "-y",
            "artifact.bin",
        ],
    );
    time(
        "cosign verify-blob --key (1 MiB)",
        &[
            "cosign",
            "verify-blob",
            "--key",
            "cosign.pub",
            "--bundle",
            "b.json",
            "--insecure-ignore-tlog",
            "artifact.bin",
        ],
    );
}
