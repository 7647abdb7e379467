#pragma once
// One reader per tracking entity for every document that carries it (the REST API's JSON, the
// file store's meta.yaml): the field names, the run_uuid fallback and the defaults of absent
// fields (the initialisers in entities.h) are written once, here. A format supplies Fields:
//   std::string text(const char* key)        "" when absent or null
//   int64_t integer(const char* key)         -1 when absent or null
//   std::string run_status(const char* key)  the status name, "" when absent (meta.yaml
//                                            stores MLflow's enum number, JSON the name)
#include <string>
#include <utility>

#include "track/entities.h"

namespace robotrain::track {

// An absent or empty field keeps the struct's default.
inline void assign_unless_empty(std::string& field, std::string value) {
  if (!value.empty()) field = std::move(value);
}

template <class Fields>
ExperimentInfo experiment_from_fields(const Fields& f) {
  ExperimentInfo x;
  x.experiment_id = f.text("experiment_id");
  x.name = f.text("name");
  x.artifact_location = f.text("artifact_location");
  assign_unless_empty(x.lifecycle_stage, f.text("lifecycle_stage"));
  x.creation_time = f.integer("creation_time");
  x.last_update_time = f.integer("last_update_time");
  return x;
}

template <class Fields>
RunInfo run_info_from_fields(const Fields& f) {
  RunInfo r;
  r.run_id = f.text("run_id");
  if (r.run_id.empty()) r.run_id = f.text("run_uuid");  // MLflow's older name for it
  r.experiment_id = f.text("experiment_id");
  r.run_name = f.text("run_name");
  r.user_id = f.text("user_id");
  assign_unless_empty(r.status, f.run_status("status"));
  r.start_time = f.integer("start_time");
  r.end_time = f.integer("end_time");
  r.artifact_uri = f.text("artifact_uri");
  assign_unless_empty(r.lifecycle_stage, f.text("lifecycle_stage"));
  return r;
}

}  // namespace robotrain::track
