// Builds the reports' DOM from data that is not ours (image names, annotations, file names): every
// string becomes a text node, attributes are set one by one, and nothing here can take markup,
// a URL or an event handler attribute. innerHTML and its kin are banned in webview/ by lint.

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  title?: string;
  /** Set through the CSSOM: the page's policy refuses style attributes. */
  style?: Record<string, string>;
  /** `aria-*`, `data-*`, `role` and component properties such as `appearance`. */
  attrs?: Record<string, string | number | boolean>;
  onClick?: (event: MouseEvent) => void;
}

const REFUSED = /^(on|href$|src$|srcdoc$|formaction$|style$)/i;

export function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  if (props.title !== undefined) element.title = props.title;
  for (const [name, value] of Object.entries(props.style ?? {})) element.style.setProperty(name, value);
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (REFUSED.test(name)) throw new Error(`refusing to set the ${name} attribute`);
    if (value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  if (props.onClick) element.addEventListener('click', props.onClick);
  element.append(...nodes(children));
  return element;
}

/** Replaces what `parent` holds. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...nodes(children));
}

function nodes(children: Child[]): Node[] {
  return children.filter((c) => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : document.createTextNode(String(c))));
}
