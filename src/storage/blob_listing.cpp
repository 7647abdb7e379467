#include "storage/blob_listing.h"

#include <pugixml.hpp>

#include <cctype>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace {

// All character data directly inside `node` (text and CDATA sections, comments skipped), so
// "a<!--x-->b" and "a<![CDATA[b]]>" read as the service meant them.
std::string text_of(const pugi::xml_node& node) {
  std::string out;
  for (pugi::xml_node child : node.children())
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) out += child.value();
  return out;
}

// Names with characters XML cannot carry are sent percent-encoded with Encoded="true".
std::string percent_decode(const std::string& s) {
  auto hex = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10); };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

BlobPage parse_blob_listing(std::string_view xml) {
  pugi::xml_document doc;
  // Default options: entities, character references and CDATA decoded; comments, processing
  // instructions and any DOCTYPE skipped (no DTD is ever read, so no entity can expand).
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    throw util::RuntimeError(util::cat("List Blobs answer is not well-formed XML (", parsed.description(), " at byte ",
                                       parsed.offset, ": ", util::one_line(xml.substr(0, 120)),
                                       "); is the endpoint a Blob service?"));
  pugi::xml_node root = doc.child("EnumerationResults");
  if (!root)
    throw util::RuntimeError(util::cat("List Blobs answer is not an EnumerationResults document: ",
                                       util::one_line(xml.substr(0, 120)), " (is the endpoint a Blob service?)"));
  BlobPage page;
  for (pugi::xml_node blob : root.child("Blobs").children("Blob")) {
    BlobItem item;
    pugi::xml_node name = blob.child("Name");
    item.name = text_of(name);
    if (!name || item.name.empty()) throw util::RuntimeError("List Blobs answer has a <Blob> without a <Name>");
    if (std::string_view(name.attribute("Encoded").value()) == "true") item.name = percent_decode(item.name);
    pugi::xml_node props = blob.child("Properties");
    if (pugi::xml_node len = props.child("Content-Length")) {
      int64_t n = 0;
      std::string text = util::trim(text_of(len));
      if (!util::parse_int64(text, n) || n < 0)
        throw util::RuntimeError(util::cat("List Blobs: bad Content-Length '", util::one_line(text, 40), "' for ",
                                           util::one_line(item.name, 200)));
      item.size = static_cast<uint64_t>(n);
    }
    item.content_md5 = util::trim(text_of(props.child("Content-MD5")));
    item.etag = text_of(props.child("Etag"));
    page.blobs.push_back(std::move(item));
  }
  page.next_marker = util::trim(text_of(root.child("NextMarker")));
  return page;
}

}  // namespace robotrain::storage
