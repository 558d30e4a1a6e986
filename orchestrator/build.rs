//! Lists the SQL migrations of each back end (`migrations/{postgres,sqlite}/NNNN_name.sql`)
//! for `store::migrator`, which embeds them. This replaces sqlx's `migrate!` macro, whose
//! proc-macro compiles sqlx and both database drivers (bundled SQLite included) a second time
//! for the build host: a third of a clean build.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for backend in ["postgres", "sqlite"] {
        let dir = root.join(backend);
        println!("cargo::rerun-if-changed={}", dir.display());
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| entry.expect("a readable directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
            .collect();
        files.sort();
        let mut list = String::from("&[\n");
        for path in files {
            let name = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .expect("a UTF-8 migration file name");
            // The names sqlx's resolver reads: `<version>_<description>.sql`.
            let (version, description) = name
                .split_once('_')
                .and_then(|(v, d)| Some((v.parse::<i64>().ok()?, d.replace('_', " "))))
                .unwrap_or_else(|| {
                    panic!("{}: name a migration NNNN_description.sql", path.display())
                });
            let path = path.canonicalize().expect("an existing migration file");
            writeln!(
                list,
                "    ({version}, {description:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .expect("writing to a String");
        }
        list.push(']');
        fs::write(out.join(format!("{backend}_migrations.rs")), list)
            .expect("writing the migration list");
    }
}
