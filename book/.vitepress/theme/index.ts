// The default theme, with the styles of the repository files' pages (style.css).
import mermaid from "mermaid";
import DefaultTheme from "vitepress/theme";
import "./style.css";

// Mermaid draws every ".mermaid" element by itself when the window's load event comes, unless
// told not to before then; vitepress-plugin-mermaid tells it only when it draws its first
// diagram, which can be later. Mermaid would then read the plugin's containers as diagram
// text and show "Syntax error in text" in them until the plugin's own drawing replaced it.
mermaid.startOnLoad = false;

export default DefaultTheme;
