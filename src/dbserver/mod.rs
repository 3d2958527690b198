//! The dbserver ("remotedb") protocol on TCP 12523 (port query) and 1051, per `prodjlink.md` section 7.
