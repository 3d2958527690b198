//! TCP stream reassembly, shared by every TCP protocol (dbserver, StageLinQ).
