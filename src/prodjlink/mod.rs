//! Pro DJ Link over UDP (ports 50000-50004), per `prodjlink.md` sections 1-6.
