-- meta.feature_change (0160): find the feature a closed version belongs to (a write aimed at a closed version's
-- id is refused as "not found" by landgeo.register.features; landdb.lifespans.holder_of).
CREATE INDEX feature_change_closed ON meta.feature_change (collection, closed_version)
    WHERE closed_version IS NOT NULL;
