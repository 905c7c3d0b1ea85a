import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment/index.js';
import { RoleDefinition } from '@cdktf/provider-azurerm/lib/role-definition/index.js';

/**
 * Built-in roles the stack grants, each at the narrowest scope that works. None is Owner,
 * Contributor or User Access Administrator.
 */
export const ROLES = {
  /** Read the connector bundle. */
  blobReader: 'Storage Blob Data Reader',
  /** Upload the connector bundle (the deploying principal). */
  blobContributor: 'Storage Blob Data Contributor',
  /**
   * Read, write, delete, and the blob index tags: `.../blobs/tags/read|write` and
   * `.../blobs/filter/action` (find by `expiresAt`) exist only in this data role.
   */
  blobOwner: 'Storage Blob Data Owner',
  /** `generateUserDelegationKey`, an account-level action: what a user-delegation SAS is signed with. */
  blobDelegator: 'Storage Blob Delegator',
  tableContributor: 'Storage Table Data Contributor',
  secretsUser: 'Key Vault Secrets User',
  /** Send telemetry to an Application Insights resource whose local (key) authentication is off. */
  metricsPublisher: 'Monitoring Metrics Publisher',
} as const;

/** A built-in role by name, or a custom one (RoleAssignments.defineRole) by its id. */
export type RoleRef = (typeof ROLES)[keyof typeof ROLES] | { id: string; name: string };

export interface Grant {
  /** Construct id, and the public contract of the assignment. */
  id: string;
  principalId: string;
  role: RoleRef;
  scope: string;
  /** Managed identities are service principals; the deploying user may be either. */
  principalType?: 'ServicePrincipal';
  /** The scope is a string built from an id; depend on what creates it. */
  dependsOn?: ITerraformDependable[];
  /** Why this grant exists, shown in the portal. */
  description: string;
}

export interface CustomRole {
  /** Construct id. */
  id: string;
  /** Unique in the tenant. */
  name: string;
  description: string;
  /** Where it is defined and may be assigned (the stack's resource group). */
  scope: string;
  dataActions: string[];
}

/** The stack's role assignments, in one place so least privilege can be reviewed at a glance. */
export class RoleAssignments extends Construct {
  readonly grants: Grant[] = [];

  /** A custom role with exactly the data actions one principal uses, and no control-plane action. */
  defineRole(role: CustomRole): { id: string; name: string } {
    const definition = new RoleDefinition(this, role.id, {
      name: role.name,
      description: role.description,
      scope: role.scope,
      assignableScopes: [role.scope],
      permissions: [{ actions: [], dataActions: role.dataActions }],
    });
    return { id: definition.roleDefinitionResourceId, name: role.name };
  }

  grant(grant: Grant): RoleAssignment {
    this.grants.push(grant);
    return new RoleAssignment(this, grant.id, {
      principalId: grant.principalId,
      ...(typeof grant.role === 'string' ? { roleDefinitionName: grant.role } : { roleDefinitionId: grant.role.id }),
      scope: grant.scope,
      principalType: grant.principalType,
      description: grant.description,
      dependsOn: grant.dependsOn,
    });
  }
}
