import { Construct } from 'constructs';
import { ApplicationInsights } from '@cdktf/provider-azurerm/lib/application-insights/index.js';
import { LogAnalyticsWorkspace } from '@cdktf/provider-azurerm/lib/log-analytics-workspace/index.js';

export interface MonitoringProps {
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
  names: { logAnalytics: string; appInsights: string };
  /** @default 30 - the free retention of a PerGB2018 workspace */
  retentionInDays?: number;
}

/**
 * One Log Analytics workspace for the stack's diagnostic settings, and a workspace-based
 * Application Insights for the cleanup function. Its local (instrumentation key) authentication is
 * off: telemetry is accepted only with an Entra ID token, so the key in the connection string
 * grants nothing (the function sends as its managed identity, with Monitoring Metrics Publisher).
 */
export class Monitoring extends Construct {
  readonly workspace: LogAnalyticsWorkspace;
  readonly appInsights: ApplicationInsights;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { resourceGroupName, location, tags } = props;
    this.workspace = new LogAnalyticsWorkspace(this, 'workspace', {
      name: props.names.logAnalytics,
      resourceGroupName,
      location,
      sku: 'PerGB2018',
      retentionInDays: props.retentionInDays ?? 30,
      tags,
    });
    this.appInsights = new ApplicationInsights(this, 'app_insights', {
      name: props.names.appInsights,
      resourceGroupName,
      location,
      applicationType: 'Node.JS',
      workspaceId: this.workspace.id,
      localAuthenticationDisabled: true,
      tags,
    });
  }
}
