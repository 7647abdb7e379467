#pragma once
// Who and what started a run: the system tags MLflow's client sets on every run it creates
// (mlflow.user, mlflow.source.name, mlflow.source.type), so runs look the same in the UI
// whether they came from the Python client or from robotrain.
#include <map>
#include <string>

namespace robotrain::track {

// getpass.getuser(): LOGNAME, USER, LNAME, USERNAME, then the password database.
std::string current_user();
// mlflow.user, mlflow.source.name (the executable), mlflow.source.type = LOCAL, and
// mlflow.runName when run_name is not empty. `extra` wins over the defaults.
std::map<std::string, std::string> default_run_tags(const std::string& run_name,
                                                    const std::map<std::string, std::string>& extra);

}  // namespace robotrain::track
