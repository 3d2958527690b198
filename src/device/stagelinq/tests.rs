//! Virtual-clock tests of the StageLinQ unit models.
