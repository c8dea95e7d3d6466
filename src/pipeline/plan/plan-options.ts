// What the planner needs to know about the mapping: policies and ownership, nothing else.
import type { Attributes } from '../../core/types.js';
import type { CompiledMapping } from '../map/compile-mapping.js';

export interface PlanOptions {
  readonly versionAttribute: string;
  readonly createPolicy: 'always' | 'existing-only';
  readonly deletePolicy: 'delete' | 'disable';
  /** groups.managed: remove memberships that the source no longer has (false: add only). */
  readonly removeGroups: boolean;
  /** Groups the mapping controls; memberships in any other group are left alone. */
  readonly ownsGroup: (group: string) => boolean;
  /** Attributes written on create only (immutable custom attributes). */
  readonly createOnlyAttributes: ReadonlySet<string>;
  /**
   * groups.versionAttribute: the custom attribute holding per-group versions (group-versions.ts).
   * Undefined: memberships are not version-guarded (compared with Cognito's groups only).
   */
  readonly groupsVersionAttribute?: string;
  /**
   * A fast "nothing to update" check for desired users built by one mapping (compiled from its
   * attribute names, so it knows no others): when it holds, the planner skips its per-attribute
   * comparison. Without it (hand-built options), every attribute is compared one by one.
   */
  readonly attributesMatch?: (wanted: Readonly<Attributes>, have: Readonly<Attributes>) => boolean;
}

export const planOptionsFromMapping = (mapping: CompiledMapping): PlanOptions => {
  const options: PlanOptions = {
    versionAttribute: mapping.versionAttribute,
    createPolicy: mapping.createPolicy,
    deletePolicy: mapping.deletePolicy,
    removeGroups: mapping.groupsManaged,
    ownsGroup: mapping.ownsGroup,
    createOnlyAttributes: mapping.createOnlyAttributes,
    attributesMatch: mapping.attributesMatch,
  };
  const groupsVersionAttribute = mapping.spec.groups?.versionAttribute;
  return groupsVersionAttribute === undefined ? options : { ...options, groupsVersionAttribute };
};
