//! Game scenarios (`devnet scenario run FILE`): a devnet, a timeline of faults triggered at a
//! time, a height, an epoch or an election, an optional load, and assertions checked while it
//! runs and at the end. Format: docs/scenarios.md; the shipped library: `devnet/scenarios/`.
//!
//! - [`file`]    the TOML format: parse, validate with the field's path
//! - [`observe`] what is asked of the nodes (heads, committees, hashes, receipts)
//! - [`run`]     the runner: devnet in-process, poller, timeline, load, end checks
//! - [`check`]   the assertions over what was recorded, and the report (pure)
//! - [`load`]    the `[load]` section on top of the load generator
pub mod check;
pub mod file;
mod load;
pub mod observe;
pub mod run;

pub use file::Scenario;

/// The shipped scenarios (`devnet/scenarios/*.toml`), by name: `devnet scenario run NAME`
/// runs one without a path.
pub const LIBRARY: &[(&str, &str)] = &[
    (
        "leader-crash",
        include_str!("../scenarios/leader-crash.toml"),
    ),
    (
        "minority-partition",
        include_str!("../scenarios/minority-partition.toml"),
    ),
    (
        "byzantine-primary",
        include_str!("../scenarios/byzantine-primary.toml"),
    ),
    (
        "silent-members",
        include_str!("../scenarios/silent-members.toml"),
    ),
    (
        "handover-crash",
        include_str!("../scenarios/handover-crash.toml"),
    ),
    (
        "rotation-under-load",
        include_str!("../scenarios/rotation-under-load.toml"),
    ),
    ("split-brain", include_str!("../scenarios/split-brain.toml")),
    ("late-joiner", include_str!("../scenarios/late-joiner.toml")),
];

/// A library scenario by name, or a file by path.
pub fn load(name_or_path: &str) -> Result<Scenario, crate::spec::SpecError> {
    let path = std::path::Path::new(name_or_path);
    if !path.exists()
        && let Some((name, text)) = LIBRARY.iter().find(|(n, _)| *n == name_or_path)
    {
        let mut s = Scenario::parse(text).map_err(|e| match e {
            crate::spec::SpecError::Parse { message, .. } => crate::spec::SpecError::Parse {
                path: format!("{name}.toml (library)").into(),
                message,
            },
            other => other,
        })?;
        if s.name.is_empty() {
            s.name = (*name).to_string();
        }
        return Ok(s);
    }
    if !path.exists() {
        return Err(crate::spec::SpecError::Range {
            field: String::new(),
            message: format!(
                "no scenario file {name_or_path:?} and no shipped scenario of that name (`devnet scenario list`: {})",
                LIBRARY
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Scenario::load(path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_library_is_every_shipped_file_and_each_is_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("devnet/scenarios")
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_string_lossy()
                    .strip_suffix(".toml")
                    .map(str::to_string)
            })
            .collect();
        files.sort();
        let mut names: Vec<String> = super::LIBRARY.iter().map(|(n, _)| n.to_string()).collect();
        names.sort();
        assert_eq!(
            files, names,
            "LIBRARY must list every devnet/scenarios/*.toml"
        );
        for (name, _) in super::LIBRARY {
            let s = super::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.name, *name);
            assert!(!s.description.is_empty(), "{name} has no description");
        }
    }
}
