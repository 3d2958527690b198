//! The StageLinQ units an emulated device can pose as, in one table: the discovery strings
//! (device name, software name and version), the OfflineAnalyzer identities, the services and
//! the decks of each model, with the `stagelinq.md` section each value comes from. Where the
//! reference is silent the entry says so and names the value chosen.

/// What a persona does on the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A media player (SC5000, SC6000): two layers reported as Deck1 and Deck2 (1.11), no
    /// mixer section; it accepts connections and serves its services.
    Player,
    /// A standalone unit with decks and a mixer section (PRIME 4, PRIME 2, PRIME GO): serves
    /// its decks and its own `/Mixer/*` paths.
    AllInOne,
    /// The X1800 / X1850: announces a port it refuses and connects to the players itself
    /// (1.3.4, 3.8 "To emulate the mixer").
    Mixer,
}

/// A service a unit offers in its directory (1.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    StateMap,
    Broadcast,
    Syncing,
    TimeSynchronization,
    BeatInfo,
    /// The Engine library database and track files (1.9; `file_transfer`).
    FileTransfer,
}

impl Service {
    /// The name announced on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Service::StateMap => "StateMap",
            Service::Broadcast => "Broadcast",
            Service::Syncing => "Syncing",
            Service::TimeSynchronization => "TimeSynchronization",
            Service::BeatInfo => "BeatInfo",
            Service::FileTransfer => "FileTransfer",
        }
    }
}

/// One model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    /// The role name on the command line (`sc6000`).
    pub role: &'static str,
    /// The first network string of every HOWDY ("source / device name", 1.2).
    pub device_name: &'static str,
    /// The model code in the software-name field (2.1).
    pub software: &'static str,
    pub version: &'static str,
    pub kind: Kind,
    /// Decks reported in StateMap and BeatInfo (2.1 "Decks"; players report two layers).
    pub decks: u8,
    /// Mixer channels of the unit's own mixer section (0 for players).
    pub channels: u8,
    /// How many `OfflineAnalyzer` identities the unit announces beside its own (2.2).
    pub analyzers: u8,
    /// The services offered, in announce order (1.3.2).
    pub services: &'static [Service],
}

/// SC6000 `JP13` 2.3.1 announce order ([capture] f51).
const SC_SERVICES: &[Service] = &[
    Service::StateMap,
    Service::Broadcast,
    Service::Syncing,
    Service::TimeSynchronization,
    Service::BeatInfo,
    Service::FileTransfer,
];

/// PRIME 4 `JC11` 3.4.0 and PRIME GO `JP11` (1.3.2: unbox #126 log, PyStageLinQ doc): no
/// Syncing.
const PRIME_SERVICES: &[Service] = &[
    Service::StateMap,
    Service::Broadcast,
    Service::TimeSynchronization,
    Service::BeatInfo,
    Service::FileTransfer,
];

/// The software version OfflineAnalyzer identities announce ([capture]: `1.0.0`).
pub const ANALYZER_VERSION: &str = "1.0.0";
pub const ANALYZER_SOFTWARE: &str = "OfflineAnalyzer";

/// Every persona, in the order `--as` help lists them.
pub const PERSONAS: [Persona; 7] = [
    // JP07 (2.1, unbox #57/#77); 2.1.2 is the firmware of the unbox #77 log. The device name
    // of an SC5000 is not quoted in the reference: `sc5000` follows the `sc6000` pattern.
    // Services: the reference lists none for the SC5000; the SC6000's (same OS generation).
    // Two OfflineAnalyzers per SC5000 (2.1 notes: unbox #57/#77 logs).
    Persona {
        role: "sc5000",
        device_name: "sc5000",
        software: "JP07",
        version: "2.1.2",
        kind: Kind::Player,
        decks: 2,
        channels: 0,
        analyzers: 2,
        services: SC_SERVICES,
    },
    // [capture] sc6000_boot.pcap: `sc6000` / JP13 / 2.3.1, two OfflineAnalyzers, the six
    // services of f51.
    Persona {
        role: "sc6000",
        device_name: "sc6000",
        software: "JP13",
        version: "2.3.1",
        kind: Kind::Player,
        decks: 2,
        channels: 0,
        analyzers: 2,
        services: SC_SERVICES,
    },
    // JC11, `prime4`, 3.4.0 (2.1: go-stagelinq test, unbox #126); four decks, four channels.
    // Whether a PRIME 4 runs OfflineAnalyzers is not in the reference: none announced.
    Persona {
        role: "prime-4",
        device_name: "prime4",
        software: "JC11",
        version: "3.4.0",
        kind: Kind::AllInOne,
        decks: 4,
        channels: 4,
        analyzers: 0,
        services: PRIME_SERVICES,
    },
    // JC16 (2.1 table only). Device name and version are not in the reference: `prime2`
    // (the `prime4` pattern) and the PRIME 4's 3.4.0. Two decks, two channels.
    Persona {
        role: "prime-2",
        device_name: "prime2",
        software: "JC16",
        version: "3.4.0",
        kind: Kind::AllInOne,
        decks: 2,
        channels: 2,
        analyzers: 0,
        services: PRIME_SERVICES,
    },
    // JP11, `primego`, 2.1.1 (2.1: MarByteBeep #7); the OfflineAnalyzer pair 500 ms out of
    // phase with the JP11 frame (2.2, PyStageLinQ protocol doc). Two decks, two channels.
    Persona {
        role: "prime-go",
        device_name: "primego",
        software: "JP11",
        version: "2.1.1",
        kind: Kind::AllInOne,
        decks: 2,
        channels: 2,
        analyzers: 2,
        services: PRIME_SERVICES,
    },
    // [capture]: `DN-X1800Prime` / JM08 / 1.00 (the mixer fw 1.6 still announces 1.00,
    // MarByteBeep #1). Four channels (`/Mixer/NumberOfChannels` 4). Offers no service.
    Persona {
        role: "x1800",
        device_name: "DN-X1800Prime",
        software: "JM08",
        version: "1.00",
        kind: Kind::Mixer,
        decks: 0,
        channels: 4,
        analyzers: 0,
        services: &[],
    },
    // JM10 (2.1 table only); the name `DN-X1850Prime` and version 1.00 follow the X1800
    // (the reference notes that the capture's "X1850" announced JM08: unresolved, 2.1 notes).
    Persona {
        role: "x1850",
        device_name: "DN-X1850Prime",
        software: "JM10",
        version: "1.00",
        kind: Kind::Mixer,
        decks: 0,
        channels: 4,
        analyzers: 0,
        services: &[],
    },
];

impl Persona {
    /// The persona of a role name (`sc6000`), case-insensitive.
    pub fn by_role(role: &str) -> Option<&'static Persona> {
        PERSONAS.iter().find(|p| p.role.eq_ignore_ascii_case(role))
    }

    /// The role names, for help texts and errors.
    pub fn roles() -> impl Iterator<Item = &'static str> {
        PERSONAS.iter().map(|p| p.role)
    }

    /// Whether `software` (a HOWDY's software name) is a mixer's model code.
    pub fn is_mixer_code(software: &str) -> bool {
        PERSONAS
            .iter()
            .any(|p| p.kind == Kind::Mixer && p.software == software)
    }

    /// Whether `software` is a unit with decks (player or all-in-one), by model code: the
    /// units a mixer connects to. Codes of units the table does not emulate count too
    /// (2.1: SC5000M JP08, SC6000M JP14, SC LIVE JP20/JP21, PRIME GO+ JP11S).
    pub fn is_deck_unit_code(software: &str) -> bool {
        PERSONAS
            .iter()
            .any(|p| p.kind != Kind::Mixer && p.software == software)
            || matches!(software, "JP08" | "JP14" | "JP20" | "JP21" | "JP11S")
    }

    /// Whether `software` names hardware or its embedded helpers (anything but a software
    /// client): the table's codes, the analyzers and SoundSwitch embedded (`SSS0`, 2.1).
    pub fn is_hardware_code(software: &str) -> bool {
        Self::is_mixer_code(software)
            || Self::is_deck_unit_code(software)
            || matches!(
                software,
                ANALYZER_SOFTWARE | "SSS0" | "JC20" | "NH08" | "NH09" | "NH10"
            )
    }

    pub fn offers(&self, s: Service) -> bool {
        self.services.contains(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_is_found_and_unique() {
        for p in &PERSONAS {
            assert_eq!(Persona::by_role(p.role), Some(p));
            // chrisle's client needs more than 3 services announced (clients.md 4.2).
            if p.kind != Kind::Mixer {
                assert!(p.services.len() > 3, "{}", p.role);
                assert_eq!(p.services[0], Service::StateMap);
                assert!(p.decks == 2 || p.decks == 4);
            }
        }
        assert_eq!(Persona::roles().count(), 7);
        assert!(Persona::by_role("SC6000").is_some());
        assert!(Persona::by_role("cdj-3000").is_none());
        assert!(Persona::is_mixer_code("JM08"));
        assert!(Persona::is_deck_unit_code("JP13"));
        assert!(!Persona::is_hardware_code("Python"));
        assert!(Persona::is_hardware_code("OfflineAnalyzer"));
    }
}
