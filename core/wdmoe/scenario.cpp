#include "core/wdmoe/scenario.h"

#include <climits>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/util/limits.h"
#include "core/util/regular_file.h"

namespace moe::wdmoe {

using nlohmann::json;

Scenario default_scenario() {
  Scenario s;
  s.name = "paper_8_devices";
  // Distances spread from near the BS to the cell edge so that links differ (the paper gives
  // no distances). 10 TFLOP/s per device: a mid-range edge GPU (our assumption).
  const double distances[] = {20, 60, 100, 150, 250, 400, 600, 1000};
  for (int q = 0; q < 8; ++q) {
    DeviceSpec d;
    d.name = "device" + std::to_string(q);
    d.distance_m = distances[q];
    d.power_w = 0.2;
    d.bandwidth_hz = 0;  // equal split, resolved below
    d.flops = 1e13;
    s.devices.push_back(d);
  }
  Status st = validate_and_resolve(s);
  MOE_CHECK(st.ok(), st.message());
  return s;
}

namespace {

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

Status positive(const std::string& field, double v) {
  if (!(v > 0) || !std::isfinite(v)) return make_error(field, ": must be > 0 (got ", num(v), ")");
  return {};
}

}  // namespace

Status validate_and_resolve(Scenario& s) {
  MOE_TRY(positive("carrier_ghz", s.carrier_ghz));
  MOE_TRY(positive("total_bandwidth_hz", s.total_bandwidth_hz));
  MOE_TRY(positive("bs_power_w", s.bs_power_w));
  MOE_TRY(positive("noise_temperature_k", s.noise_temperature_k));
  if (s.tokens_per_slot < 1)
    return make_error("tokens_per_slot: must be >= 1 (got ", std::to_string(s.tokens_per_slot),
                      ")");
  if (s.model.hidden < 1 || s.model.expert_hidden < 1)
    return make_error("model: hidden and expert_hidden must be >= 1");
  if (!(s.model.activation_flops >= 0)) return make_error("model.activation_flops: must be >= 0");
  MOE_TRY(positive("model.bytes_per_element", s.model.bytes_per_element));
  if (s.devices.empty()) return make_error("devices: at least one device is needed");
  double assigned = 0;
  int unassigned = 0;
  for (size_t q = 0; q < s.devices.size(); ++q) {
    const DeviceSpec& d = s.devices[q];
    const std::string f = "devices[" + std::to_string(q) + "]";
    MOE_TRY(positive(f + ".distance_m", d.distance_m));
    MOE_TRY(positive(f + ".power_w", d.power_w));
    MOE_TRY(positive(f + ".flops", d.flops));
    if (!(d.bandwidth_hz >= 0) || !std::isfinite(d.bandwidth_hz))
      return make_error(f, ".bandwidth_hz: must be >= 0 (got ", num(d.bandwidth_hz), ")");
    if (d.bandwidth_hz == 0) ++unassigned;
    assigned += d.bandwidth_hz;
  }
  // Shares may not exceed the total (1 ppm slack for decimal round-off in files).
  if (assigned > s.total_bandwidth_hz * (1 + 1e-6))
    return make_error("devices: bandwidth shares sum to ", num(assigned),
                      " Hz, more than total_bandwidth_hz ", num(s.total_bandwidth_hz), " Hz");
  if (unassigned > 0) {
    const double rest = s.total_bandwidth_hz - assigned;
    if (!(rest > 0))
      return make_error("devices: ", std::to_string(unassigned),
                        " device(s) without bandwidth_hz but no bandwidth left to share");
    for (DeviceSpec& d : s.devices)
      if (d.bandwidth_hz == 0) d.bandwidth_hz = rest / unassigned;
  }
  for (size_t e = 0; e < s.placement.size(); ++e) {
    if (s.placement[e].empty())
      return make_error("placement[", std::to_string(e), "]: expert has no device");
    for (int q : s.placement[e])
      if (q < 0 || q >= s.n_devices())
        return make_error("placement[", std::to_string(e), "]: device ", std::to_string(q),
                          " does not exist (", std::to_string(s.n_devices()), " devices)");
  }
  return {};
}

namespace {

// Typed field readers: a missing optional field keeps the default; a present one must have the
// right type.
Status read_number(const json& obj, const char* key, const std::string& path, double& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (!it->is_number())
    return make_error(path, key, ": expected a number, got ", std::string(it->type_name()));
  out = it->get<double>();
  return {};
}

// An integer JSON value that fits an int (get<int>() would truncate silently).
bool fits_int(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(INT_MAX);
  const int64_t x = v.get<int64_t>();
  return x >= INT_MIN && x <= INT_MAX;
}

Status read_int(const json& obj, const char* key, const std::string& path, int& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (!it->is_number_integer())
    return make_error(path, key, ": expected an integer, got ", std::string(it->type_name()));
  if (!fits_int(*it)) return make_error(path, key, ": ", it->dump(), " is out of range");
  out = it->get<int>();
  return {};
}

Status read_device(const json& j, size_t q, DeviceSpec& d) {
  const std::string path = "devices[" + std::to_string(q) + "].";
  if (!j.is_object()) return make_error("devices[", std::to_string(q), "]: expected an object");
  d.name = "device" + std::to_string(q);
  if (auto it = j.find("name"); it != j.end()) {
    if (!it->is_string()) return make_error(path, "name: expected a string");
    d.name = it->get<std::string>();
  }
  if (!j.contains("distance_m")) return make_error(path, "distance_m: missing");
  MOE_TRY(read_number(j, "distance_m", path, d.distance_m));
  MOE_TRY(read_number(j, "power_w", path, d.power_w));
  MOE_TRY(read_number(j, "bandwidth_hz", path, d.bandwidth_hz));
  MOE_TRY(read_number(j, "flops", path, d.flops));
  return {};
}

Status read_placement(const json& j, Scenario& s) {
  if (!j.is_array())
    return make_error("placement: expected an array (expert -> device or devices)");
  for (size_t e = 0; e < j.size(); ++e) {
    std::vector<int> devs;
    const json& v = j[e];
    auto out_of_range = [&](const json& x) {
      return make_error("placement[", std::to_string(e), "]: device ", x.dump(),
                        " is out of range");
    };
    if (v.is_number_integer()) {
      if (!fits_int(v)) return out_of_range(v);
      devs.push_back(v.get<int>());
    } else if (v.is_array()) {
      for (const json& x : v) {
        if (!x.is_number_integer())
          return make_error("placement[", std::to_string(e), "]: expected device indices");
        if (!fits_int(x)) return out_of_range(x);
        devs.push_back(x.get<int>());
      }
    } else {
      return make_error("placement[", std::to_string(e), "]: expected an integer or an array");
    }
    s.placement.push_back(std::move(devs));
  }
  return {};
}

Status read_scenario(const json& j, Scenario& s) {
  if (!j.is_object()) return make_error("expected a JSON object at the top level");
  if (auto it = j.find("name"); it != j.end() && it->is_string()) s.name = it->get<std::string>();
  MOE_TRY(read_number(j, "carrier_ghz", "", s.carrier_ghz));
  MOE_TRY(read_number(j, "total_bandwidth_hz", "", s.total_bandwidth_hz));
  MOE_TRY(read_number(j, "bs_power_w", "", s.bs_power_w));
  MOE_TRY(read_number(j, "noise_temperature_k", "", s.noise_temperature_k));
  MOE_TRY(read_int(j, "tokens_per_slot", "", s.tokens_per_slot));
  if (auto it = j.find("seed"); it != j.end()) {
    if (!it->is_number_unsigned()) return make_error("seed: expected a non-negative integer");
    s.seed = it->get<uint64_t>();
  }
  if (auto it = j.find("model"); it != j.end()) {
    if (!it->is_object()) return make_error("model: expected an object");
    MOE_TRY(read_int(*it, "hidden", "model.", s.model.hidden));
    MOE_TRY(read_int(*it, "expert_hidden", "model.", s.model.expert_hidden));
    MOE_TRY(read_number(*it, "activation_flops", "model.", s.model.activation_flops));
    MOE_TRY(read_number(*it, "bytes_per_element", "model.", s.model.bytes_per_element));
  }
  auto devs = j.find("devices");
  if (devs == j.end()) return make_error("devices: missing");
  if (!devs->is_array()) return make_error("devices: expected an array");
  for (size_t q = 0; q < devs->size(); ++q) {
    DeviceSpec d;
    MOE_TRY(read_device((*devs)[q], q, d));
    s.devices.push_back(std::move(d));
  }
  if (auto it = j.find("placement"); it != j.end()) MOE_TRY(read_placement(*it, s));
  return validate_and_resolve(s);
}

}  // namespace

namespace {
// "origin:line:column: what went wrong", as compilers print it, from nlohmann's parse_error
// ("[json.exception.parse_error.101] parse error at line 12, column 5: syntax error while
// parsing object - unexpected string literal; expected '}'"), so an editor can jump there.
Error syntax_error(std::string_view origin, const json::parse_error& e) {
  const std::string what = e.what();
  unsigned line = 0, column = 0;
  const size_t at = what.find(" at line ");
  const size_t colon = what.find(": ", at == std::string::npos ? 0 : at);
  if (at != std::string::npos && colon != std::string::npos &&
      std::sscanf(what.c_str() + at, " at line %u, column %u", &line, &column) == 2)
    return make_error(std::string(origin), ":", std::to_string(line), ":", std::to_string(column),
                      ": ", what.substr(colon + 2));
  return make_error(std::string(origin), ": not valid JSON (byte ", std::to_string(e.byte), ")");
}
}  // namespace

Result<Scenario> parse_scenario_json(std::string_view text, std::string_view origin) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return syntax_error(origin, e);
  }
  Scenario s;
  s.devices.clear();
  Status st = read_scenario(j, s);
  if (!st.ok()) return make_error(std::string(origin), ": ", st.message());
  return s;
}

Result<Scenario> load_scenario_file(const std::string& path) {
  auto text = read_regular_file(path, kMaxScenarioBytes, "scenario file");
  if (!text.ok()) return text.error();
  return parse_scenario_json(*text, path);
}

std::string scenario_to_json(const Scenario& s) {
  json j;
  j["name"] = s.name;
  j["carrier_ghz"] = s.carrier_ghz;
  j["total_bandwidth_hz"] = s.total_bandwidth_hz;
  j["bs_power_w"] = s.bs_power_w;
  j["noise_temperature_k"] = s.noise_temperature_k;
  j["tokens_per_slot"] = s.tokens_per_slot;
  j["seed"] = s.seed;
  j["model"] = {{"hidden", s.model.hidden},
                {"expert_hidden", s.model.expert_hidden},
                {"activation_flops", s.model.activation_flops},
                {"bytes_per_element", s.model.bytes_per_element}};
  j["devices"] = json::array();
  for (const DeviceSpec& d : s.devices)
    j["devices"].push_back({{"name", d.name},
                            {"distance_m", d.distance_m},
                            {"power_w", d.power_w},
                            {"bandwidth_hz", d.bandwidth_hz},
                            {"flops", d.flops}});
  if (!s.placement.empty()) j["placement"] = s.placement;
  return j.dump(2);
}

}  // namespace moe::wdmoe
