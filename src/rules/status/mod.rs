//! What a cluster says about its own objects: negative status conditions in `kubectl get -o
//! yaml` output (istio's `conditions.ConditionAnalyzer`).

pub mod mesh1401_negative_condition;
