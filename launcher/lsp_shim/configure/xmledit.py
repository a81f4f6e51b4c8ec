"""Edit IntelliJ project files (.idea/*.xml) the way the IDE itself writes them.

IntelliJ serialises a PersistentStateComponent as
    <project version="4"><component name="X"><option name="field" value="..." /></component>
with 2-space indentation and options sorted by name (see the .idea/ruff.xml and
.idea/pyLspTools.xml files in public repositories cited in pycharm.py). These files are
IDE-generated, so re-indenting with ElementTree reproduces the IDE's own layout; comments and
processing instructions are kept, other components and options are left as they are.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


class XmlEditError(ValueError):
    pass


def parse(text: str | None) -> ET.Element:
    """The <project> root of an existing file, or a fresh one."""
    if text is None or not text.strip():
        return ET.Element("project", {"version": "4"})
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True))
    try:
        root = ET.fromstring(text, parser=parser)
    except ET.ParseError as e:
        raise XmlEditError(str(e)) from None
    if root.tag != "project":
        raise XmlEditError(f"the root element is <{root.tag}>, not <project>")
    return root


def serialize(root: ET.Element, newline: str = "\n") -> str:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return (DECLARATION + "\n" + body + "\n").replace("\n", newline)


def _child(parent: ET.Element, tag: str, attrs: dict[str, str]) -> ET.Element | None:
    for el in parent:
        if el.tag == tag and all(el.get(k) == v for k, v in attrs.items()):
            return el
    return None


def component(root: ET.Element, name: str) -> ET.Element:
    """The <component name=...>, created (in name order, as IntelliJ sorts them) if missing."""
    found = _child(root, "component", {"name": name})
    if found is not None:
        return found
    el = ET.Element("component", {"name": name})
    names = [(i, c.get("name", "")) for i, c in enumerate(root) if c.tag == "component"]
    index = next((i for i, n in names if n > name), len(root))
    root.insert(index, el)
    return el


def set_options(parent: ET.Element, options: dict[str, str]) -> bool:
    """Set <option name=k value=v /> children; returns whether anything changed."""
    changed = False
    for name, value in options.items():
        opt = _child(parent, "option", {"name": name})
        if opt is None:
            opt = ET.Element("option", {"name": name, "value": value})
            existing = [(i, c.get("name", "")) for i, c in enumerate(parent) if c.tag == "option"]
            index = next((i for i, n in existing if n > name), None)
            if index is None:
                index = existing[-1][0] + 1 if existing else len(parent)
            parent.insert(index, opt)
            changed = True
        elif opt.get("value") != value or len(opt):
            for child in list(opt):
                opt.remove(child)
            opt.set("value", value)
            changed = True
    return changed


def map_entry_bean(comp: ET.Element, option: str, key: str, bean: str) -> ET.Element:
    """The bean element of entry `key` in <option name=option><map>, created if missing.

    XmlSerializer writes a Map<String, Bean> field as
      <option name="tools"><map><entry key="ruff"><value><ToolEntry>...</ToolEntry></value>
    """
    opt = _child(comp, "option", {"name": option})
    if opt is None:
        opt = ET.SubElement(comp, "option", {"name": option})
    map_el = _child(opt, "map", {})
    if map_el is None:
        map_el = ET.SubElement(opt, "map")
    entry = _child(map_el, "entry", {"key": key})
    if entry is None:
        entry = ET.Element("entry", {"key": key})
        keys = [(i, e.get("key", "")) for i, e in enumerate(map_el) if e.tag == "entry"]
        index = next((i for i, k in keys if k > key), len(map_el))
        map_el.insert(index, entry)
    value = _child(entry, "value", {})
    if value is None:
        value = ET.SubElement(entry, "value")
    bean_el = _child(value, bean, {})
    if bean_el is None:
        bean_el = ET.SubElement(value, bean)
    return bean_el
