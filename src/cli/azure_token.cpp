// The AAD token used to call Azure ML's management API from the CLI (REST submission).
#include "cli/submit_flags.h"

namespace robotrain::cli {

platform::TokenProvider azure_management_token_provider() { return nullptr; }

}  // namespace robotrain::cli
