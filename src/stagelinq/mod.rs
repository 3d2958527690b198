//! StageLinQ (Denon / Engine DJ), per `stagelinq.md`.
