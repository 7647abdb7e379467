#include "storage/blob_listing.h"

#include <cctype>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The text of the first <tag ...>text</tag> in [from, to), or nullopt-like empty + found=false.
bool element_text(const std::string& xml, size_t from, size_t to, const std::string& tag, std::string& text,
                  std::string* attributes = nullptr) {
  std::string open = "<" + tag;
  size_t pos = from;
  while (true) {
    pos = xml.find(open, pos);
    if (pos == std::string::npos || pos >= to) return false;
    char after = pos + open.size() < xml.size() ? xml[pos + open.size()] : '\0';
    if (after == '>' || after == ' ' || after == '/') break;
    pos += open.size();  // a longer tag name sharing the prefix (<NameX>)
  }
  size_t gt = xml.find('>', pos);
  if (gt == std::string::npos || gt >= to) return false;
  if (attributes) *attributes = xml.substr(pos + open.size(), gt - pos - open.size());
  if (xml[gt - 1] == '/') {  // <Tag/>
    text.clear();
    return true;
  }
  size_t close = xml.find("</" + tag + ">", gt);
  if (close == std::string::npos || close > to) return false;
  text = xml_unescape(xml.substr(gt + 1, close - gt - 1));
  return true;
}

// Names with characters XML cannot carry are sent percent-encoded with Encoded="true".
std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string xml_unescape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string::npos) {
      out += text[i];
      continue;
    }
    std::string ent = text.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      append_utf8(out, static_cast<uint32_t>(std::stoul(ent.substr(hex ? 2 : 1), nullptr, hex ? 16 : 10)));
    } else {
      out += text.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

BlobPage parse_blob_list(const std::string& xml) {
  if (xml.find("<EnumerationResults") == std::string::npos)
    throw util::RuntimeError(util::cat("List Blobs answer is not an EnumerationResults document: ",
                                       xml.substr(0, 120), " (is the endpoint a Blob service?)"));
  BlobPage page;
  size_t pos = 0;
  while ((pos = xml.find("<Blob>", pos)) != std::string::npos) {
    size_t end = xml.find("</Blob>", pos);
    if (end == std::string::npos) throw util::RuntimeError("List Blobs answer is truncated (no </Blob>); retry");
    BlobItem item;
    std::string attrs, len;
    if (!element_text(xml, pos, end, "Name", item.name, &attrs))
      throw util::RuntimeError("List Blobs answer has a <Blob> without <Name>");
    if (attrs.find("Encoded=\"true\"") != std::string::npos) item.name = percent_decode(item.name);
    if (element_text(xml, pos, end, "Content-Length", len)) {
      int64_t n = 0;
      if (!util::parse_int64(util::trim(len), n) || n < 0)
        throw util::RuntimeError(util::cat("List Blobs: bad Content-Length '", len, "' for ", item.name));
      item.size = static_cast<uint64_t>(n);
    }
    element_text(xml, pos, end, "Content-MD5", item.content_md5);
    element_text(xml, pos, end, "Etag", item.etag);
    item.content_md5 = util::trim(item.content_md5);
    page.blobs.push_back(std::move(item));
    pos = end;
  }
  size_t blobs_end = xml.rfind("</Blobs>");
  size_t from = blobs_end == std::string::npos ? 0 : blobs_end;
  element_text(xml, from, xml.size(), "NextMarker", page.next_marker);
  page.next_marker = util::trim(page.next_marker);
  return page;
}

}  // namespace robotrain::storage
