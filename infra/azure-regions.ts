/**
 * The regional suffix of Azure service tags (`Storage.WestEurope`) for each public-cloud region
 * name (`westeurope`), as the published service tag file (ServiceTags_Public.json) spells it. The
 * NSGs allow outbound Storage only in the stack's own region, and the tag has to be written the
 * way Azure lists it; a region missing here is refused at synth rather than guessed.
 */
export const SERVICE_TAG_REGIONS: Readonly<Record<string, string>> = {
  australiacentral: 'AustraliaCentral',
  australiacentral2: 'AustraliaCentral2',
  australiaeast: 'AustraliaEast',
  australiasoutheast: 'AustraliaSoutheast',
  austriaeast: 'AustriaEast',
  belgiumcentral: 'BelgiumCentral',
  brazilsouth: 'BrazilSouth',
  brazilsoutheast: 'BrazilSoutheast',
  canadacentral: 'CanadaCentral',
  canadaeast: 'CanadaEast',
  centralindia: 'CentralIndia',
  centralus: 'CentralUS',
  chilecentral: 'ChileCentral',
  eastasia: 'EastAsia',
  eastus: 'EastUS',
  eastus2: 'EastUS2',
  francecentral: 'FranceCentral',
  francesouth: 'FranceSouth',
  germanynorth: 'GermanyNorth',
  germanywestcentral: 'GermanyWestCentral',
  indonesiacentral: 'IndonesiaCentral',
  israelcentral: 'IsraelCentral',
  italynorth: 'ItalyNorth',
  japaneast: 'JapanEast',
  japanwest: 'JapanWest',
  jioindiacentral: 'JioIndiaCentral',
  jioindiawest: 'JioIndiaWest',
  koreacentral: 'KoreaCentral',
  koreasouth: 'KoreaSouth',
  malaysiawest: 'MalaysiaWest',
  mexicocentral: 'MexicoCentral',
  newzealandnorth: 'NewZealandNorth',
  northcentralus: 'NorthCentralUS',
  northeurope: 'NorthEurope',
  norwayeast: 'NorwayEast',
  norwaywest: 'NorwayWest',
  polandcentral: 'PolandCentral',
  qatarcentral: 'QatarCentral',
  southafricanorth: 'SouthAfricaNorth',
  southafricawest: 'SouthAfricaWest',
  southcentralus: 'SouthCentralUS',
  southeastasia: 'SoutheastAsia',
  southindia: 'SouthIndia',
  spaincentral: 'SpainCentral',
  swedencentral: 'SwedenCentral',
  swedensouth: 'SwedenSouth',
  switzerlandnorth: 'SwitzerlandNorth',
  switzerlandwest: 'SwitzerlandWest',
  uaecentral: 'UAECentral',
  uaenorth: 'UAENorth',
  uksouth: 'UKSouth',
  ukwest: 'UKWest',
  westcentralus: 'WestCentralUS',
  westeurope: 'WestEurope',
  westindia: 'WestIndia',
  westus: 'WestUS',
  westus2: 'WestUS2',
  westus3: 'WestUS3',
};

/** `Storage.WestEurope` for `westeurope`; undefined for a region not listed above. */
export function regionalServiceTag(service: string, location: string): string | undefined {
  const region = SERVICE_TAG_REGIONS[location];
  return region === undefined ? undefined : `${service}.${region}`;
}
