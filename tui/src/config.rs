//! Where the dashboard finds its settings: flags beat environment beat the config file.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Deserialize;

/// The config file, `config.toml` in the XDG config dir.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Server URL.
    pub server: Option<String>,
    /// Token.
    pub token: Option<String>,
    /// `zh` or `en`.
    pub lang: Option<String>,
    /// Ring the terminal bell when a whistle goes overdue.
    pub bell: Option<bool>,
    /// A CA certificate (PEM, may hold several) to trust besides the system's, for a city's
    /// private CA.
    pub ca_cert: Option<PathBuf>,
    /// Key bindings: action name → keys.
    #[serde(default)]
    pub keys: HashMap<String, Vec<String>>,
}

/// The paths the dashboard uses.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The config file.
    pub config: PathBuf,
    /// The log file.
    pub log: PathBuf,
    /// The demo store.
    pub demo_data: PathBuf,
}

impl Paths {
    /// The XDG paths, or paths under the current directory if there is no home.
    pub fn discover() -> Paths {
        match directories::ProjectDirs::from("", "", "shaozi") {
            Some(d) => Paths {
                config: d.config_dir().join("config.toml"),
                log: d
                    .state_dir()
                    .unwrap_or_else(|| d.data_local_dir())
                    .join("shaozi.log"),
                demo_data: d.data_local_dir().join("demo"),
            },
            None => Paths {
                config: PathBuf::from("shaozi.toml"),
                log: PathBuf::from("shaozi.log"),
                demo_data: PathBuf::from("shaozi-demo"),
            },
        }
    }
}

/// Reads the config file; a missing file is an empty config, a broken one an error.
pub fn load(path: &std::path::Path) -> anyhow::Result<FileConfig> {
    match std::fs::read_to_string(path) {
        Ok(s) => toml::from_str(&s).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}
