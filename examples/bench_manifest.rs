//! Benchmark: validate a 1,000,000-row CSV manifest streaming, and report rows per second and
//! peak memory (VmHWM). Run: `cargo run --release --example bench_manifest [ROWS]`.
//!
//! The rows have an appid, a nickname, a signature, categories by id and one shared avatar
//! (hashed once, then served from the validator's cache), so the figure is the reader's and
//! the validator's cost, not the disk's.

use std::io::{BufWriter, Write};
use std::time::Instant;

use wxprov::manifest::{self, CategoryTree, Validated};

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("wxprov-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let png = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/images/tiny.png");
    std::fs::copy(png, dir.join("avatar.png"))?;
    let path = dir.join("bench.csv");

    let started = Instant::now();
    {
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        writeln!(out, "appid,名称,简介,类目,头像,头像裁剪")?;
        for i in 0..rows {
            writeln!(
                out,
                "wx{i:016x},测试名称{},提供好玩的服务，第 {i} 号,287/612;8/40,avatar.png,\"0,0,1,1\"",
                i % 1000
            )?;
        }
    }
    let size = std::fs::metadata(&path)?.len();
    println!("generated {rows} rows ({:.1} MB) in {:.2?}", size as f64 / 1e6, started.elapsed());
    println!("peak memory after generating: {} KiB", vm_hwm_kib().unwrap_or(0));

    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/categories.json"))?;
    let tree = CategoryTree::from_json(&json)?;

    let started = Instant::now();
    let manifest = manifest::open(&path, &manifest::ReadOptions::default())?;
    let mut steps = 0usize;
    let counts = manifest.validate_each(Some(&tree), None, |v| {
        if let Validated::Valid(row) = v {
            steps += row.steps.len();
        }
    })?;
    let elapsed = started.elapsed();
    println!(
        "validated {} rows ({} valid, {} rejected, {steps} steps) in {:.2?}: {:.0} rows/s (encoding {:?})",
        counts.valid + counts.rejected,
        counts.valid,
        counts.rejected,
        elapsed,
        (counts.valid + counts.rejected) as f64 / elapsed.as_secs_f64(),
        manifest.encoding(),
    );
    println!("peak memory (VmHWM): {} KiB", vm_hwm_kib().unwrap_or(0));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
